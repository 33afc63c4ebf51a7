{
  "targets": [
    {
      "target_name": "fidkd_blas",
      "sources": [
        "native/addon.c",
        "native/pool.c",
        "native/gemm.c",
        "native/elementwise.c",
        "native/reduce.c",
        "native/layout.c",
        "native/attention.c",
        "native/rmsnorm.c",
        "native/layernorm.c",
        "native/gelu.c",
        "native/adamw.c"
      ],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-lopenblas", "-lpthread", "-lm"],
      "cflags": ["-std=gnu11", "-O3", "-march=native", "-fno-math-errno", "-Wall", "-Wno-unused-parameter"],
      "cflags!": ["-O2", "-O0"]
    }
  ]
}
