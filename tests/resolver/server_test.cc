#include "resolver/server.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "resolver/listen_socket.h"
#include "tests/eventually.h"
#include "tests/resolver/loopback_client.h"
#include "tests/resolver/wire_test_util.h"
#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

using namespace loopback;
using wiretest::ClientQuery;

std::string current_user() { return getpwuid(geteuid())->pw_name; }

// A Server run on a thread of this test as dnsvagt's main thread runs it, on a config file of
// its own: one worker on a free loopback port, forwarding to a socket that never answers, and
// a local list. Signals go to the server's thread only; every other thread blocks them, as
// in the process.
class ServerTest : public testing::Test {
 protected:
  ServerTest() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    black_hole_ = open_udp_socket(Endpoint{"127.0.0.1", 0});
    port_ = free_port();
    write_list("ads.example\n");
  }
  ~ServerTest() override {
    if (thread_.joinable()) {
      pthread_kill(thread_.native_handle(), SIGTERM);
      thread_.join();
    }
    close(black_hole_);
  }
  void write_list(const std::string& entries) {
    std::ofstream(directory_ + "/blocked.txt") << entries;
  }
  void write_config(bool with_list) {
    std::ofstream config(directory_ + "/dnsvagt.yaml");
    config << "server:\n  listen: [\"127.0.0.1:" << port_ << "\"]\n  threads: 1\n  user: \"" << current_user() << "\"\n"
           << "upstream:\n  mode: forward\n  servers: [\"127.0.0.1@" << bound_port(black_hole_)
           << "\"]\n  timeout: 200ms\n"
           << "dnssec:\n  root_trust_anchor_file: \"\"\n"
           << "metrics:\n  listen: \"\"\n"
           << "logging:\n  level: error\n"
           << "blocking:\n  cache_dir: " << directory_ << "/lists\n";
    if (with_list) {
      config << "  lists:\n    - {name: local, file: " << directory_
             << "/blocked.txt, format: domains}\n";
    }
  }
  void start() {
    const std::string path = directory_ + "/dnsvagt.yaml";
    std::promise<void> started;
    std::future<void> ready = started.get_future();
    thread_ = std::thread([this, path, started = std::move(started)]() mutable {
      server_ = std::make_unique<Server>(load_config(path), path);
      started.set_value();
      try {
        result_ = server_->run();
      } catch (const std::exception& error) {
        ADD_FAILURE() << "run() threw: " << error.what();
      }
    });
    ready.wait();
    // Served once it answers; the run() thread binds and loads its lists first.
    for (int i = 0; i < 100 && rcode_of(ask("localhost", 1)) < 0; ++i) {
    }
  }
  void signal_server(int signal) { pthread_kill(thread_.native_handle(), signal); }
  int stop() {
    signal_server(SIGTERM);
    thread_.join();
    return result_;
  }
  std::vector<uint8_t> ask(const char* name, int timeout_seconds = 2) {
    ClientQuery query(name, kTypeA, true);
    return ask_udp(port_, query.packet, timeout_seconds);
  }
  // Polls until `name` gets `rcode` (a reload takes effect when its generation has started).
  bool answered_with(const char* name, int rcode) {
    return eventually([&] { return rcode_of(ask(name)) == rcode; });
  }

  const TempDir temp_dir_{"dnsvagt-server-test"};
  const std::string directory_ = temp_dir_.path();
  int black_hole_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int result_ = -1;
};

TEST_F(ServerTest, ServesItsListsAndStopsOnSigtermWithExitCodeZero) {
  write_config(true);
  start();
  EXPECT_EQ(rcode_of(ask("localhost")), int{kRcodeNoError});
  EXPECT_EQ(rcode_of(ask("www.ads.example")), int{kRcodeNxDomain});
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(rcode_of(ask("localhost", 1)), -1);  // the socket is closed with the server
}

TEST_F(ServerTest, SighupAppliesTheChangedConfigAndABrokenOneChangesNothing) {
  write_config(true);
  start();
  ASSERT_EQ(rcode_of(ask("www.ads.example")), int{kRcodeNxDomain});
  {
    std::ofstream(directory_ + "/dnsvagt.yaml") << "server: [unclosed\n";
  }
  signal_server(SIGHUP);
  // The broken file is logged and ignored: the running config, lists included, stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(rcode_of(ask("www.ads.example")), int{kRcodeNxDomain});
  write_config(false);
  signal_server(SIGHUP);
  // Without the list the name goes upstream, which never answers: SERVFAIL at the timer.
  EXPECT_TRUE(answered_with("www.ads.example", kRcodeServFail));
  EXPECT_EQ(stop(), 0);
}

TEST_F(ServerTest, RunThrowsWhenItCannotBindItsPort) {
  // Bound without SO_REUSEPORT, so the server's sockets cannot share the port.
  const int taken = socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in any = address(0);
  ASSERT_EQ(bind(taken, reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
  port_ = bound_port(taken);
  write_config(false);
  Server server(load_config(directory_ + "/dnsvagt.yaml"), directory_ + "/dnsvagt.yaml");
  EXPECT_THROW(server.run(), std::runtime_error);
  close(taken);
}

}  // namespace
}  // namespace dnsvagt
