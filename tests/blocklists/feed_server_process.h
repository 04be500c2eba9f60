// FeedServerProcess: the integration tests' feed server (tests/integration/feed_server.py) run
// on 127.0.0.1 for unit tests of downloads: files of a directory with ETag, 304 and gzip, over
// HTTP or HTTPS, and its faults (redirects, errors) switched on per path.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace dnsvagt {

class FeedServerProcess {
 public:
  // Serves the files of `root`, over HTTPS with the certificate `cert` (PEM, key in `key`)
  // if given; throws std::runtime_error if the server is not listening within 10 seconds.
  explicit FeedServerProcess(const std::string& root, const std::string& cert = "",
                             const std::string& key = "")
      : scheme_(cert.empty() ? "http" : "https") {
    const std::string script =
        (std::filesystem::path(__FILE__).parent_path().parent_path() / "integration" /
         "feed_server.py").string();
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<const char*> argv = {"/usr/bin/python3", script.c_str(), "--root", root.c_str()};
    if (!cert.empty()) argv.insert(argv.end(), {"--cert", cert.c_str(), "--key", key.c_str()});
    argv.push_back(nullptr);
    int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr,
                              const_cast<char**>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
      ::close(out[0]);
      pid_ = -1;
      throw std::runtime_error("cannot run " + script);
    }
    // The server prints "PORT <n>\n" once listening.
    std::string line;
    pollfd ready{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&ready, 1, 10000) == 1) {
      char buffer[64];
      ssize_t got = ::read(out[0], buffer, sizeof buffer);
      if (got <= 0) break;
      line.append(buffer, static_cast<size_t>(got));
    }
    ::close(out[0]);
    if (!line.starts_with("PORT ") || line.find('\n') == std::string::npos) {
      stop();
      throw std::runtime_error(script + " did not start: \"" + line + "\"");
    }
    port_ = std::stoi(line.substr(5));
  }
  ~FeedServerProcess() { stop(); }
  FeedServerProcess(const FeedServerProcess&) = delete;
  FeedServerProcess& operator=(const FeedServerProcess&) = delete;

  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The control request that sets the fault of `path` (feed_server.py's modes, e.g.
  // "redirect&to=URL"), to be fetched like a feed.
  std::string fault_url(const std::string& path, const std::string& mode) const {
    return url("/_control/fault?path=" + path + "&mode=" + mode);
  }

 private:
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string scheme_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace dnsvagt
