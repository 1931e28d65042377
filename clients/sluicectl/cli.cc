#include "clients/sluicectl/cli.h"

#include <iostream>

namespace sluice::cli {

int Fail(int code, const std::string& message) {
  std::cerr << "sluicectl: error: " << message << std::endl;
  return code;
}

std::string DescribeRpcError(const grpc::Status& status, const std::string& server) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return "cannot reach sluiced at " + server + " (" + status.error_message() +
             "); is it running? Use --server HOST:PORT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "sluiced at " + server + " did not answer in time";
    default:
      return status.error_message();
  }
}

std::shared_ptr<grpc::Channel> Connect(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
}

}  // namespace sluice::cli
