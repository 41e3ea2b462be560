# Tests of the web module (`mmbench serve`): the API and robustness test,
# and the dashboard in headless Chromium.  Both are node scripts; each makes
# its database with `mmbench run` and starts its own server on a free port.
if(NOT MMBENCH_HAVE_MHD)
  add_test(NAME web_serve_without_mhd COMMAND mmbench serve)
  set_tests_properties(web_serve_without_mhd PROPERTIES
    PASS_REGULAR_EXPRESSION "built without libmicrohttpd")
  return()
endif()

# The JSON and CSV string writers (C, no server).
mmb_test(test_web_buf SOURCES test_web_buf.c LIBS mmb_web)
add_test(NAME test_web_buf COMMAND test_web_buf)

find_program(MMB_NODE node)
if(NOT MMB_NODE)
  message(STATUS "  web tests         node not found: web_api and web_browser not registered")
  return()
endif()

add_test(NAME web_api
  COMMAND ${MMB_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/test_web_api.mjs $<TARGET_FILE:mmbench>
          ${CMAKE_CURRENT_BINARY_DIR}/web_api)
set_tests_properties(web_api PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)

# Screenshots land in tests/artifacts/ (git-ignored).
add_test(NAME web_browser
  COMMAND ${MMB_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/web/browser_test.mjs $<TARGET_FILE:mmbench>
          ${CMAKE_CURRENT_BINARY_DIR}/web_browser ${CMAKE_SOURCE_DIR}/tests/artifacts)
set_tests_properties(web_browser PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS browser)
