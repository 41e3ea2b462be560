/* placeholder */ typedef int wl_placeholder_t;
