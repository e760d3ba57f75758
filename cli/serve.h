// `lucent serve`: the HTTP inference server (serve.cpp has the design notes).
#pragma once

namespace lucent::cli {

// argv[1] is "serve". Returns the process exit status.
int serve_main(int argc, const char* const* argv);

}  // namespace lucent::cli
