# Sanitizer builds, for every target:
#   GRINDSTONE_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer (the CI suite).
#   GRINDSTONE_FUZZ:     ASan + UBSan + libFuzzer coverage (clang only); builds fuzz/.
#   GRINDSTONE_TSAN:     ThreadSanitizer (the multithreaded runtime's data-race check).
if(GRINDSTONE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(GRINDSTONE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GRINDSTONE_FUZZ needs clang (libFuzzer): configure with CXX=clang++ CC=clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(GRINDSTONE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
