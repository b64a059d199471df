add_library(junction_options INTERFACE)
target_compile_options(junction_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 warns on coroutine frames it cannot see through; the warnings are false positives.
  target_compile_options(junction_options INTERFACE -Wno-mismatched-new-delete -Wno-maybe-uninitialized)
endif()
if(JUNCTION_SANITIZE)
  # -fno-sanitize=function: clang 14's indirect-call check breaks code generation for coroutine
  # frames ("Cannot represent a difference across sections"); every other UBSan check stays on.
  target_compile_options(junction_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined -fno-sanitize=function)
  target_link_options(junction_options INTERFACE -fsanitize=address,undefined)
endif()

if(JUNCTION_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "JUNCTION_FUZZ needs clang (CXX=clang++)")
  endif()
  # Coverage instrumentation everywhere; only the fuzz targets link libFuzzer's main.
  target_compile_options(junction_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# Adds a library for one layer of the code (runtime, http, each protocol, media, transcode).
function(junction_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC junction_options ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
endfunction()
