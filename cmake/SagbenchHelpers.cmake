# Helpers shared by the subsystem CMakeLists.

# Warnings for the project's own targets (third-party headers are SYSTEM).
function(sagbench_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
endfunction()

# Precompiles <torch/torch.h> for a target whose sources mostly include it
# (it costs ~15 s per translation unit otherwise).
function(sagbench_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()

# sagbench_library(NAME DIR dir DEPS ... [TORCH_PCH]): a static library of every
# .cpp in DIR (one per subsystem, so each can be built and tested on its own).
function(sagbench_library name)
  cmake_parse_arguments(ARG "TORCH_PCH" "DIR" "DEPS" ${ARGN})
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
  if(ARG_TORCH_PCH)
    sagbench_torch_pch(${name})
  endif()
endfunction()

# sagbench_test_suite(NAME DIR dir DEPS ...): one GoogleTest binary of every
# *_test.cpp in DIR, registered with ctest test by test.
function(sagbench_test_suite name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources} $<TARGET_OBJECTS:sagbench_test_main>)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} sagbench_test_support GTest::gtest GTest::gmock)
  sagbench_warnings(${name})
  sagbench_torch_pch(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120
    PROPERTIES ENVIRONMENT "SAGBENCH_FIXTURES_DIR=${SAGBENCH_FIXTURES_DIR};SAGBENCH_BUILD_FIXTURES_DIR=${SAGBENCH_BUILD_FIXTURES_DIR}")
endfunction()
