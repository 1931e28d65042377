// sluiced: the sluice change-data-capture server.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/daemon/daemon.h"
#include "server/logging/log.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool check_only =
      std::find(args.begin(), args.end(), std::string("--check-config")) != args.end();
  auto options = sluice::daemon::ParseArgs(args);
  if (!options.ok()) {
    if (absl::IsNotFound(options.status()) && options.status().message() == "help") {
      std::cout << sluice::daemon::Usage();
      return 0;
    }
    std::cerr << "sluiced: error: " << options.status().message() << "\n";
    return check_only ? 1 : 2;
  }
  if (options->check_config) {
    if (absl::Status st = sluice::daemon::CheckFiles(*options); !st.ok()) {
      std::cerr << "sluiced: error: " << st.message() << "\n";
      return 1;
    }
    std::cout << "configuration OK\n" << sluice::daemon::DescribeOptions(*options) << "\n";
    return 0;
  }
  sluice::logging::Configure(options->log_format);
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::string data_dir = options->config.data_dir;
  const size_t sources = options->config.sources.size();
  auto daemon = sluice::daemon::Daemon::Start(*std::move(options));
  if (!daemon.ok()) {
    sluice::logging::Error("", absl::StrCat("cannot start: ", daemon.status().message()));
    return 1;
  }
  // Tests and scripts read the ports from this line.
  sluice::logging::Info("", absl::StrCat("serving on port ", (*daemon)->port()),
                        {{"data_dir", data_dir},
                         {"sources", std::to_string(sources)},
                         {"metrics_port", std::to_string((*daemon)->metrics_port())}});
  int sig = 0;
  sigwait(&stop_signals, &sig);
  const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  sluice::logging::Info("", absl::StrCat("received ", name, ", shutting down"));
  (*daemon)->Shutdown();
  sluice::logging::Info("", "stopped");
  return 0;
}
