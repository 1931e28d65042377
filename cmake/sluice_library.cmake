# Helpers that keep "one folder, one target" cheap to follow.
#
#   sluice_cc_library(NAME name SRCS ... [HDRS ...] [DEPS ...] [PRIVATE_DEPS ...])
#     -> static library sluice_<name>, alias sluice::<name>, C++20, -Wall -Wextra -Werror.
#   sluice_cc_test(NAME name SRCS ... [DEPS ...] [LABELS unit|integration|server])
#     -> gtest binary registered with ctest under the given labels (default: unit).
#   sluice_warnings(target)
#     -> the project's warning flags on a non-library target (executables).

set(SLUICE_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

function(sluice_warnings target)
  target_compile_options(${target} PRIVATE ${SLUICE_WARNINGS})
endfunction()

function(sluice_cc_library)
  cmake_parse_arguments(L "" "NAME" "SRCS;HDRS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sluice_${L_NAME} STATIC ${L_SRCS} ${L_HDRS})
  add_library(sluice::${L_NAME} ALIAS sluice_${L_NAME})
  target_include_directories(sluice_${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(sluice_${L_NAME} PUBLIC ${L_DEPS} PRIVATE ${L_PRIVATE_DEPS})
  sluice_warnings(sluice_${L_NAME})
endfunction()

function(sluice_cc_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SRCS})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  sluice_warnings(${T_NAME})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "SLUICE_SOURCE_DIR=${PROJECT_SOURCE_DIR};SLUICE_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
