# Every dependency is a Debian package installed by `./run setup`.
find_package(PkgConfig REQUIRED)
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/schema.h REQUIRED)
add_library(rapidjson INTERFACE)
target_include_directories(rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})
# Our documents are small; 64-bit sizes are not needed, but std::string support is.
target_compile_definitions(rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)

# What the ingest's per-message path needs (the fuzz build stops there).
pkg_check_modules(ROCKSDB REQUIRED IMPORTED_TARGET rocksdb)
find_package(SQLite3 REQUIRED)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
find_package(spdlog REQUIRED)
find_package(toml11 REQUIRED)
# Phone numbers in free text (cartmask's redactor, src/mask), from libphonenumber-dev. Its headers
# use the protobuf runtime's inline code, so protobuf is linked too.
find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h REQUIRED)
find_library(PHONENUMBER_LIBRARY phonenumber REQUIRED)
find_library(PROTOBUF_LIBRARY protobuf REQUIRED)
add_library(phonenumber INTERFACE)
target_include_directories(phonenumber SYSTEM INTERFACE ${PHONENUMBER_INCLUDE_DIR})
target_link_libraries(phonenumber INTERFACE ${PHONENUMBER_LIBRARY} ${PROTOBUF_LIBRARY})

if(NOT CARTWRIGHT_FUZZ)
  pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
  # The broker's plugin API (src/broker/plugin/), from Debian's mosquitto-dev.
  find_path(MOSQUITTO_PLUGIN_INCLUDE_DIR mosquitto_plugin.h)
  if(NOT MOSQUITTO_PLUGIN_INCLUDE_DIR)
    message(FATAL_ERROR "mosquitto_plugin.h not found: install mosquitto-dev (./run setup does)")
  endif()
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  find_package(CLI11 REQUIRED)
  # Stores' local time for opening hours: the system's tz database (tzdata), through date-tz.
  find_package(date CONFIG REQUIRED)
  if(CARTWRIGHT_TESTS)
    find_package(GTest REQUIRED)
  endif()
endif()
