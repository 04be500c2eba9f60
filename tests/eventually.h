// Waiting in a test for what another thread or process does: a condition is polled until it
// holds or a bound passes, so a slow machine makes the test slower, not wrong.
#pragma once

#include <chrono>
#include <thread>

namespace dnsvagt {

// Whether `condition` came to hold within `limit`, polled every 10 ms.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace dnsvagt
