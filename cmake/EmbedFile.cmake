# cmake -DINPUT=file -DOUTPUT=out.cc -DNAMESPACE=ns -DFUNCTION=name -P EmbedFile.cmake
# Writes a C++ source whose `std::string_view ns::name()` returns the bytes of INPUT, so a binary
# can carry a file it must write out at run time (the broker plugin) instead of searching for it.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(([^,]*,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/EmbedFile.cmake. Do not edit.
#include <string_view>
namespace ${NAMESPACE} {
namespace {
constexpr char kBytes[${size} + 1] = {
${bytes}0};
}  // namespace
std::string_view ${FUNCTION}() { return std::string_view(kBytes, ${size}); }
}  // namespace ${NAMESPACE}
")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
