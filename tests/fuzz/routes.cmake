# Fails when the fuzz targets built (WANT, '|'-separated "METHOD /pattern")
# and the routes with a body check in the route table (asked of FUZZER with
# RT_FUZZ_LIST_ROUTES set) are not the same set.
#
# cmake -DFUZZER=bin -DWANT="POST /a|PATCH /b" -P routes.cmake

cmake_minimum_required(VERSION 3.25)

execute_process(
	COMMAND ${CMAKE_COMMAND} -E env RT_FUZZ_LIST_ROUTES=1 ${FUZZER}
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err
	RESULT_VARIABLE rc
	TIMEOUT 30)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${FUZZER} failed (${rc}): ${err}")
endif()

string(REGEX REPLACE "\n$" "" out "${out}")
string(REPLACE "\n" ";" have "${out}")
string(REPLACE "|" ";" want "${WANT}")

set(bad 0)
foreach(r IN LISTS have)
	if(NOT r IN_LIST want)
		message(SEND_ERROR "route '${r}' has a body check but no fuzz target: "
			"add it to RT_FUZZ_BODY_ROUTES in tests/fuzz/CMakeLists.txt")
	endif()
endforeach()
foreach(r IN LISTS want)
	if(NOT r IN_LIST have)
		message(SEND_ERROR "fuzz target for '${r}', which has no body check "
			"in the route table")
	endif()
endforeach()
list(LENGTH have n)
message(STATUS "${n} routes with a body, each with a fuzz target")
