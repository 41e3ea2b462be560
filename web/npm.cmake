# npm.cmake - install the dashboard's npm packages exactly as locked:
#   cmake -DNPM=<npm or empty> -DWEB_DIR=<web/> -DSTAMP=<file> -P npm.cmake
# Run by the build when node_modules is missing or package-lock.json is
# newer than the last install.  Fails the build with one clear sentence when
# npm is missing or cannot install (e.g. offline with an empty npm cache).
cmake_minimum_required(VERSION 3.20)
if(NOT NPM)
  message(FATAL_ERROR "mmbench web: npm was not found, and the dashboard's packages (web/node_modules) are missing; install Node.js and npm, or configure with -DMMBENCH_WITH_WEB=OFF.")
endif()
message(STATUS "mmbench web: npm ci in ${WEB_DIR}")
execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
                WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mmbench web: 'npm ci' failed in ${WEB_DIR} (status ${rc}); the npm registry or a populated npm cache is needed once to fetch the locked packages.")
endif()
file(TOUCH "${STAMP}")
