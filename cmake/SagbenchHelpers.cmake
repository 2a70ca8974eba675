# Helpers shared by the subsystem CMakeLists.

# Warnings for the project's own targets (third-party headers are SYSTEM).
function(sagbench_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
endfunction()

# sagbench_library(NAME DIR dir DEPS ...): a static library of every .cpp in
# DIR (one per subsystem, so each can be built and tested on its own).
function(sagbench_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*.cpp)
  if(NOT sources)  # a subsystem that has no code yet
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  sagbench_warnings(${name})
endfunction()

# sagbench_test_suite(NAME DIR dir DEPS ...): one GoogleTest binary of every
# *_test.cpp in DIR, registered with ctest test by test.
function(sagbench_test_suite name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} sagbench_test_support GTest::gtest_main GTest::gmock)
  sagbench_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120
    PROPERTIES ENVIRONMENT "SAGBENCH_FIXTURES_DIR=${SAGBENCH_FIXTURES_DIR};SAGBENCH_BUILD_FIXTURES_DIR=${SAGBENCH_BUILD_FIXTURES_DIR}")
endfunction()
