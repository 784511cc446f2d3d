// broker/managed_broker.h — the Mosquitto broker that Cartwright configures and supervises.
//
// Everything the broker needs lives under DATA_DIR/broker/: mosquitto.conf, the ACL plugin that
// enforces broker/acl.h (and the same rules as an acl file, for reading), its own copy of the TLS
// files, the persistence database and mosquitto.log. When started as root, Mosquitto
// drops to the `mosquitto` user, so that directory is handed to that user and every parent
// directory must be traversable by it (checked up front, with a readable error).
#pragma once

#include <memory>
#include <string>

#include "broker/acl.h"
#include "broker/supervisor.h"
#include "core/config.h"
#include "core/status.h"
#include "pki/pki.h"

namespace cw::broker {

struct BrokerOptions {
  std::string data_dir;
  HostPort listen{"127.0.0.1", 8883};
  // Largest MQTT packet the broker accepts. Above the wire limit (4 KiB) on purpose: oversize
  // messages must reach the ingest so the cart gets an `oversize` reject instead of silence.
  int max_packet_size = 16384;
  std::string program = "mosquitto";
};

// The broker configuration of DESIGN.md §2, as text (a pure function, unit-tested).
std::string RenderMosquittoConf(const BrokerOptions& options, const std::string& broker_dir);

// The ACL plugin (broker/plugin/acl_plugin.cc) as built with this binary; written out at start.
std::string_view AclPluginImage();
inline constexpr std::string_view kAclPluginFile = "cartwright_acl.so";

class ManagedBroker {
 public:
  explicit ManagedBroker(BrokerOptions options);
  ~ManagedBroker();

  // Writes DATA_DIR/broker/, starts Mosquitto under supervision and waits until it accepts TCP
  // connections. FailedPrecondition if the PKI is missing or the directory is unreachable for the
  // broker's user; Unavailable if it does not come up (the message quotes its log).
  Status Start(std::chrono::milliseconds ready_timeout = std::chrono::seconds(15));
  void Stop();

  std::string dir() const { return dir_; }
  std::string log_path() const { return dir_ + "/mosquitto.log"; }
  pid_t pid() const { return supervisor_ ? supervisor_->pid() : 0; }
  int restarts() const { return supervisor_ ? supervisor_->restarts() : 0; }

 private:
  Status WriteFiles();
  BrokerOptions options_;
  std::string dir_;
  std::unique_ptr<Supervisor> supervisor_;
};

// True once something accepts TCP connections on host:port.
bool PortAcceptsConnections(const HostPort& hp);

}  // namespace cw::broker
