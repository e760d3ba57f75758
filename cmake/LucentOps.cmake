# lucent_add_op(NAME): adds ops/NAME.cpp, ops/NAME_scalar.cpp and ops/x86/NAME_{avx2,avx512,avx512bf16,amx}.cpp
# (whichever exist) to LUCENT_OP_SOURCES, gives the x86 files their per-file ISA flags, and
# adds the test oracle ops/NAME_ref.cpp to LUCENT_ORACLE_SOURCES (built into the tests' and
# benchmarks' lucent_oracles library, never into liblucent.a). The rest of the library stays
# baseline x86-64.
set(LUCENT_AVX2_FLAGS -mavx2 -mfma -mf16c)
set(LUCENT_AVX512_FLAGS -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512cd -mavx2 -mfma -mf16c)
# The bf16 tier: VDPBF16PS and the conversions (AVX512-BF16), and AMX tiles.
set(LUCENT_AVX512BF16_FLAGS ${LUCENT_AVX512_FLAGS} -mavx512bf16)
set(LUCENT_AMX_FLAGS ${LUCENT_AVX512_FLAGS} -mavx512bf16 -mamx-tile -mamx-bf16)

set(LUCENT_OP_SOURCES "")
set(LUCENT_ORACLE_SOURCES "")
set(LUCENT_ISA_SOURCES "")

macro(lucent_add_op name)
    foreach(suffix "" "_scalar")
        if(EXISTS "${PROJECT_SOURCE_DIR}/ops/${name}${suffix}.cpp")
            list(APPEND LUCENT_OP_SOURCES "ops/${name}${suffix}.cpp")
        endif()
    endforeach()
    if(EXISTS "${PROJECT_SOURCE_DIR}/ops/${name}_ref.cpp")
        list(APPEND LUCENT_ORACLE_SOURCES "ops/${name}_ref.cpp")
    endif()
    foreach(isa avx2 avx512 avx512bf16 amx)
        set(src "ops/x86/${name}_${isa}.cpp")
        if(EXISTS "${PROJECT_SOURCE_DIR}/${src}")
            list(APPEND LUCENT_OP_SOURCES "${src}")
            list(APPEND LUCENT_ISA_SOURCES "${src}")
            string(TOUPPER ${isa} isa_upper)
            set_source_files_properties("${src}" PROPERTIES
                COMPILE_OPTIONS "${LUCENT_${isa_upper}_FLAGS}")
        endif()
    endforeach()
endmacro()
