# MEMLONG_CUDA_ONLY, part 1: a reduced memlong_core for bare GPU boxes.
# Assumption (docs/GPU.md): such a box has cmake, g++ and the CUDA toolkit, and nothing from
# scripts/setup. What core needs there comes from the system when present, else from
# MEMLONG_DEPS_DIR, which `scripts/gpu-check --pack` fills on a developer machine and which travels
# with the work tree:
#   include/nlohmann/   header-only JSON (model and tokenizer files)
#   include/utf8proc.h, lib/libutf8proc.a   Unicode tables (tokenizers)
#   googletest/         GoogleTest sources (built here; a prebuilt libgtest.a may not match the
#                       box's libstdc++)
# Core sources that include a library the box lacks (SQLite, libxml2, libzip, poppler,
# uchardet, SentencePiece) are left out; SentencePiece tokenizers are replaced by a stub that
# reports Unsupported. Parity tests and the benchmark use synthetic byte-level BPE models only.
set(MEMLONG_DEPS_DIR "${CMAKE_SOURCE_DIR}/build-gpu-deps" CACHE PATH
    "Dependency kit for MEMLONG_CUDA_ONLY builds (scripts/gpu-check --pack)")
find_package(Threads REQUIRED)

find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  if(NOT EXISTS ${MEMLONG_DEPS_DIR}/include/nlohmann/json.hpp)
    message(FATAL_ERROR "MEMLONG_CUDA_ONLY: nlohmann/json.hpp is neither installed nor in "
                        "${MEMLONG_DEPS_DIR}/include (run scripts/gpu-check --pack)")
  endif()
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${MEMLONG_DEPS_DIR}/include)
endif()

find_path(MEMLONG_UTF8PROC_INCLUDE utf8proc.h HINTS ${MEMLONG_DEPS_DIR}/include)
find_library(MEMLONG_UTF8PROC_LIB NAMES utf8proc HINTS ${MEMLONG_DEPS_DIR}/lib)
if(NOT MEMLONG_UTF8PROC_INCLUDE OR NOT MEMLONG_UTF8PROC_LIB)
  message(FATAL_ERROR "MEMLONG_CUDA_ONLY: utf8proc not found on the system or in "
                      "${MEMLONG_DEPS_DIR} (run scripts/gpu-check --pack)")
endif()

option(MEMLONG_LITE_SENTENCEPIECE "Use a system SentencePiece in MEMLONG_CUDA_ONLY builds" ON)
if(MEMLONG_LITE_SENTENCEPIECE)
  find_path(MEMLONG_SPM_INCLUDE sentencepiece_processor.h)
  find_library(MEMLONG_SPM_LIB NAMES sentencepiece)
endif()

file(GLOB_RECURSE memlong_lite_candidates CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/core/*.cpp)
set(memlong_missing_headers "sqlite3\\.h|libxml/|zip\\.h|poppler/|uchardet")
if(NOT MEMLONG_SPM_INCLUDE OR NOT MEMLONG_SPM_LIB)
  string(APPEND memlong_missing_headers "|sentencepiece")
endif()
set(MEMLONG_CORE_SOURCES "")
foreach(src IN LISTS memlong_lite_candidates)
  file(STRINGS ${src} hits REGEX "#include <(${memlong_missing_headers})")
  if(hits)
    message(STATUS "MEMLONG_CUDA_ONLY: leaving out ${src}")
  else()
    list(APPEND MEMLONG_CORE_SOURCES ${src})
  endif()
endforeach()
if(NOT MEMLONG_SPM_INCLUDE OR NOT MEMLONG_SPM_LIB)
  list(APPEND MEMLONG_CORE_SOURCES ${CMAKE_SOURCE_DIR}/cuda/cmake/spm_unavailable.cpp)
endif()

add_library(memlong_core STATIC ${MEMLONG_CORE_SOURCES})
target_include_directories(memlong_core PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(memlong_core PRIVATE ${MEMLONG_UTF8PROC_INCLUDE})
target_compile_definitions(memlong_core PUBLIC MEMLONG_VERSION="${PROJECT_VERSION}")
# utf8proc's static archive needs UTF8PROC_STATIC on some platforms (dllimport); harmless here.
target_compile_definitions(memlong_core PRIVATE UTF8PROC_STATIC)
target_link_libraries(memlong_core
  PUBLIC Threads::Threads
  PRIVATE nlohmann_json::nlohmann_json ${MEMLONG_UTF8PROC_LIB} ${CMAKE_DL_LIBS})
if(MEMLONG_SPM_INCLUDE AND MEMLONG_SPM_LIB)
  target_include_directories(memlong_core PRIVATE ${MEMLONG_SPM_INCLUDE})
  target_link_libraries(memlong_core PRIVATE ${MEMLONG_SPM_LIB})
endif()
