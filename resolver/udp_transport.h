// UdpTransport: one worker's UDP sockets. Reads queries in batches (recvmmsg), takes off the
// PROXY header of a datagram from a load balancer, hands each query to the query engine and
// sends the replies it gives at once in one sendmmsg per batch.
#pragma once

#include <event2/event.h>

#include <memory>
#include <vector>

#include "resolver/internal_errors.h"
#include "resolver/query_engine.h"
#include "resolver/reply_accounting.h"
#include "resolver/worker_shared.h"

namespace dnsvagt {

class UdpTransport {
 public:
  // Reads `sockets` (owned by the Server) on `base` until stop_reading().
  UdpTransport(event_base* base, const std::vector<int>& sockets, const WorkerShared& shared,
               QueryEngine& engine, WorkerCounters& counters, ReplyAccounting& accounting,
               InternalErrors& errors);
  ~UdpTransport();
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // A drain: queries still in the socket buffers are left to the next workers.
  void stop_reading();

 private:
  struct Batch;

  static void on_readable(int fd, short events, void* transport);
  void read(int fd);

  const WorkerShared& shared_;
  QueryEngine& engine_;
  WorkerCounters& counters_;
  ReplyAccounting& accounting_;
  InternalErrors& errors_;
  std::vector<event*> events_;
  std::unique_ptr<Batch> batch_;
};

}  // namespace dnsvagt
