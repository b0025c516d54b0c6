# Warnings for our own targets only (not for dependencies' headers, which are SYSTEM).
function(grindstone_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
    -Wno-unused-parameter -Wnon-virtual-dtor)
  # GCC 12's -Wrestrict fires inside libstdc++'s std::string operator+ when it is inlined at -O2
  # (GCC bug 105329, fixed in 13): a false positive on every `"a" + std::to_string(n)`.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
