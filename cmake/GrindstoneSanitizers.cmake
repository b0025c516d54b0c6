# AddressSanitizer + UndefinedBehaviorSanitizer for every target when GRINDSTONE_SANITIZE is on.
if(GRINDSTONE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
