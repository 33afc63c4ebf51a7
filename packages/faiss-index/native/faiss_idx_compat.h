// libfaiss 1.7.3 (Debian bookworm) defines Index::idx_t but not the namespace-level faiss::idx_t that
// faiss-node's src/faiss.cc uses (added in faiss 1.7.4). Force-included by native/faiss-node.binding.gyp.
#pragma once
#include <cstdint>
namespace faiss {
using idx_t = int64_t;
}
