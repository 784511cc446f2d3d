# cmake -DIN=file -DOUT=file.cc -DNAMESPACE=cw::api -DFUNCTION=OpenApiDocument -P EmbedText.cmake
# Writes `std::string_view NAMESPACE::FUNCTION()` returning the file's bytes.
file(READ ${IN} text)
set(body "// Generated from ${IN} by cmake/EmbedText.cmake. Do not edit.\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n\nstd::string_view ${FUNCTION}() {\n  return R\"cwtext(${text})cwtext\";\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUT}.new "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.new ${OUT})
