# One short libFuzzer run on a fresh copy of the seed corpus, so that the
# source tree is never written to.  New inputs and any crash artifact land
# under WORK.
#
# cmake -DFUZZER=bin -DSEEDS=dir -DWORK=dir -DDICT=file -DARGS=a;b -P smoke.cmake

cmake_minimum_required(VERSION 3.25)

foreach(v FUZZER SEEDS WORK DICT)
	if(NOT DEFINED ${v})
		message(FATAL_ERROR "smoke.cmake: ${v} is not set")
	endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(COPY ${SEEDS}/ DESTINATION ${WORK}/corpus)

execute_process(
	COMMAND ${FUZZER} ${ARGS} -dict=${DICT} -artifact_prefix=${WORK}/artifacts/
		${WORK}/corpus
	WORKING_DIRECTORY ${WORK}
	TIMEOUT 55
	RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	file(GLOB found ${WORK}/artifacts/*)
	message(FATAL_ERROR "fuzzer failed (${rc}); reproduce with: ${FUZZER} ${found}")
endif()
