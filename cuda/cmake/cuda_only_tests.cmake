# MEMLONG_CUDA_ONLY, part 2: the CUDA tests (tests/cuda/**/*_test.cpp and the loader test) as
# memlong_cuda_tests, on the system's GoogleTest or the sources in MEMLONG_DEPS_DIR/googletest.
find_package(GTest QUIET)
if(NOT GTest_FOUND)
  if(NOT EXISTS ${MEMLONG_DEPS_DIR}/googletest/CMakeLists.txt)
    message(WARNING "MEMLONG_CUDA_ONLY: no GoogleTest (system or ${MEMLONG_DEPS_DIR}/googletest):"
                    " memlong_cuda_tests is not built")
    return()
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  add_subdirectory(${MEMLONG_DEPS_DIR}/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  if(NOT TARGET GTest::gtest)  # GoogleTest >= 1.11 defines these aliases itself
    add_library(GTest::gtest ALIAS gtest)
    add_library(GTest::gtest_main ALIAS gtest_main)
  endif()
endif()
enable_testing()
file(GLOB_RECURSE memlong_cuda_test_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cuda/*_test.cpp)
add_executable(memlong_cuda_tests ${memlong_cuda_test_sources}
               ${CMAKE_SOURCE_DIR}/tests/core/backend/backend_loader_test.cpp)
target_link_libraries(memlong_cuda_tests PRIVATE memlong_core GTest::gtest GTest::gtest_main)
target_compile_definitions(memlong_cuda_tests PRIVATE MEMLONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(TARGET memlong_cuda)
  target_compile_definitions(memlong_cuda_tests PRIVATE
    MEMLONG_CUDA_MODULE_PATH="$<TARGET_FILE:memlong_cuda>")
  add_dependencies(memlong_cuda_tests memlong_cuda)
endif()
