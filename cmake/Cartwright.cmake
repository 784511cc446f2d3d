# Helpers that give every Cartwright target the same flags, layout and test wiring.
include(GoogleTest)

# Warnings fail the builds CI compiles (asan, fuzz) and the debug build. The release build, which
# `./run demo` and `./run bench` make on the user's machine, prints them instead: GCC finds some
# only at -O2 (a possibly truncated snprintf), and one of those must not stop a demo from building.
option(CARTWRIGHT_WERROR "Treat compiler warnings as errors" ON)
set(CW_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
if(CARTWRIGHT_WERROR)
  list(APPEND CW_WARNINGS -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports impossible std::string overlaps at -O2 (GCC bug 105329): a false positive.
  list(APPEND CW_WARNINGS -Wno-restrict)
endif()

# cw_library(NAME SOURCES a.cc b.cc DEPS x y)
# One library per module; public headers are included as "module/file.h" from src/.
function(cw_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${CW_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# cw_test(NAME SOURCES a_test.cc DEPS x LABELS unit [TIMEOUT s] [LOCK name] [POSTGRES])
# Each GoogleTest case becomes its own CTest test, so a failure names the case. Tests that share
# a LOCK never run at the same time: the suites that drive whole fleets through the broker (and
# measure their pace on real time) must not compete with each other for the two cores. POSTGRES
# suites share the run's one PostgreSQL server (fixture in src/testing) instead of each process
# starting its own.
function(cw_test name)
  cmake_parse_arguments(ARG "POSTGRES" "TIMEOUT;LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CW_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  # Tests that read checked-in files (scenarios, schemas) find the tree through this.
  target_compile_definitions(${name} PRIVATE CW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # gtest_discover_tests flattens PROPERTIES into one list, so each property takes one value:
  # one label per test target, one ENVIRONMENT entry.
  list(LENGTH ARG_LABELS label_count)
  if(NOT label_count EQUAL 1)
    message(FATAL_ERROR "cw_test(${name}): give exactly one label (unit, integration or slow)")
  endif()
  set(lock)
  if(ARG_LOCK)
    set(lock RESOURCE_LOCK ${ARG_LOCK})
  endif()
  if(ARG_POSTGRES)
    list(APPEND lock FIXTURES_REQUIRED postgres)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ${lock}
    ENVIRONMENT "CARTWRIGHT_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
endfunction()

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
