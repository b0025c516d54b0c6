# Warnings for our own targets only (not for dependencies' headers, which are SYSTEM).
function(grindstone_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
    -Wno-unused-parameter -Wnon-virtual-dtor)
endfunction()
