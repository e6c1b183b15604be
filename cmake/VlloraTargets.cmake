# Helpers shared by every module's CMakeLists.txt.
include_guard(GLOBAL)
include(GNUInstallDirs)

set(VLLORA_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion
    -Wno-sign-conversion -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference)

# vllora_warnings(<target>): strict warnings for our own code only, never for consumers.
function(vllora_warnings target)
  target_compile_options(${target} PRIVATE ${VLLORA_WARNINGS})
  if(VLLORA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

set_property(GLOBAL PROPERTY VLLORA_EXPORTED_TARGETS "")

# vllora_library(<module> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates target vllora_<module>, alias vllora::<module>, installed and exported as vllora::<module>.
function(vllora_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(target vllora_${module})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(vllora::${module} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${module} OUTPUT_NAME vllora_${module})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  vllora_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY VLLORA_EXPORTED_TARGETS ${target})
endfunction()

# vllora_test(<name> SOURCES ... DEPS ... [LABELS ...] [TIMEOUT seconds]): a GoogleTest binary
# registered with ctest (one ctest per TEST; TIMEOUT applies to each of them).
function(vllora_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  vllora_warnings(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  set(_properties LABELS "${ARG_LABELS}")
  if(ARG_TIMEOUT)
    list(APPEND _properties TIMEOUT ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES ${_properties}
                       DISCOVERY_TIMEOUT 60)
endfunction()

# vllora_fuzzer(<name> SOURCES ... DEPS ... CORPUS <dir>): a fuzz target, i.e. sources that define
# `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`.
# - VLLORA_FUZZ=ON (clang): linked with -fsanitize=fuzzer,address,undefined; run it by hand:
#   `build-fuzz/fuzz/<name> <corpus dir>` (see fuzz/README.md).
# - otherwise: linked with fuzz/replay_main.cc, which feeds every file of the corpus to the target
#   once; registered as ctest `fuzz.<name>` (label unit), so each corpus is a regression test.
function(vllora_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  if(VLLORA_FUZZ)
    add_executable(${name} ${ARG_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  vllora_warnings(${name})
  if(NOT VLLORA_FUZZ AND ARG_CORPUS)
    add_test(NAME fuzz.${name} COMMAND ${name} ${ARG_CORPUS})
    set_tests_properties(fuzz.${name} PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endfunction()
