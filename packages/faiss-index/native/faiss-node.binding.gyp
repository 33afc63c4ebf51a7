# binding.gyp for faiss-node's own src/faiss.cc, built against Debian's static libfaiss (libfaiss-dev 1.7.3).
# faiss-node ships only a cmake-js build that downloads a prebuilt binary or clones faiss from GitHub; neither
# works offline, so `npx fidkd-build-faiss-node` (bin/fidkd-build-faiss-node.mjs) copies this file into
# faiss-node's directory and runs node-gyp there.
{
  "variables": { "libfaiss_a%": "/usr/lib/x86_64-linux-gnu/libfaiss.a" },
  "targets": [
    {
      "target_name": "faiss-node",
      "sources": ["src/faiss.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fopenmp", "-O2", "-w", "-include", "<(module_root_dir)/faiss_idx_compat.h"],
      "libraries": ["<(libfaiss_a)", "-lopenblas", "-lgomp", "-llapack"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
