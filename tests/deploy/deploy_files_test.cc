// The files in deploy/ that operators copy, checked without Docker or Kubernetes: every YAML file
// parses (all documents), the Kubernetes manifests have the keys the API server requires and
// probe sluiced's /healthz and /readyz on its metrics port, docker-compose.yaml runs MariaDB 10.11,
// PostgreSQL 15 with wal_level=logical and the image built from deploy/Dockerfile, and every
// sluiced configuration among them (deploy/sluice.example.yaml, the compose one, the one inside
// the ConfigMap) is accepted by config::LoadConfigFile, the loader sluiced itself uses.
// deploy/check-dockerfile.sh checks the Dockerfile.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/config/server_config.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

fs::path DeployDir() {
  const char* source_dir = std::getenv("SLUICE_SOURCE_DIR");
  return fs::path(source_dir != nullptr ? source_dir : ".") / "deploy";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> YamlFiles() {
  std::vector<fs::path> files;
  if (!fs::is_directory(DeployDir())) {
    ADD_FAILURE() << DeployDir() << " is not a directory: run under ctest, or set "
                  << "SLUICE_SOURCE_DIR to the repository root";
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(DeployDir())) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<YAML::Node> LoadAll(const fs::path& path) {
  try {
    return YAML::LoadAllFromFile(path.string());
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << path << ": " << e.what();
    return {};
  }
}

// A scratch directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "deploy_files_test.XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Loads a sluiced configuration the way sluiced does, after standing in for what the deployment
// provides: each password_file is pointed at a scratch file holding a password (the secret that
// Kubernetes, Docker or systemd would mount there), and each ${VAR} is set in the environment.
absl::StatusOr<config::ServerConfig> LoadDeployedConfig(const std::string& yaml,
                                                        const ScratchDir& scratch) {
  static const std::regex kPasswordFile("(password_file:[ \\t]*)(\\S+)");
  std::string text;
  int n = 0;
  auto begin = std::sregex_iterator(yaml.begin(), yaml.end(), kPasswordFile);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const fs::path secret = scratch.path() / ("secret-" + std::to_string(++n));
    std::ofstream(secret) << "from-file-" << n << "\n";
    text += yaml.substr(last, it->position() - last) + (*it)[1].str() + secret.string();
    last = it->position() + it->length();
  }
  text += yaml.substr(last);
  static const std::regex kEnv("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kEnv); it != std::sregex_iterator();
       ++it) {
    setenv((*it)[1].str().c_str(), ("from-env-" + (*it)[1].str()).c_str(), 1);
  }
  const fs::path file = scratch.path() / "sluice.yaml";
  std::ofstream(file) << text;
  return config::LoadConfigFile(file.string());
}

TEST(DeployFiles, EveryYamlFileParses) {
  std::set<std::string> names;
  for (const fs::path& path : YamlFiles()) {
    names.insert(fs::relative(path, DeployDir()).string());
    const std::vector<YAML::Node> docs = LoadAll(path);
    EXPECT_FALSE(docs.empty()) << path;
    for (const YAML::Node& doc : docs) EXPECT_TRUE(doc.IsMap()) << path;
  }
  for (const char* expected : {"sluice.example.yaml", "docker-compose.yaml", "compose/sluice.yaml",
                               "kubernetes/mariadb-with-sluice.yaml"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected << " is missing from deploy/";
  }
}

TEST(DeployFiles, ExampleConfigIsAcceptedBySluiced) {
  ScratchDir scratch;
  auto cfg = LoadDeployedConfig(ReadFile(DeployDir() / "sluice.example.yaml"), scratch);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->data_dir, "/var/lib/sluice");
  EXPECT_EQ(cfg->listen, "127.0.0.1:7070");
  EXPECT_EQ(cfg->metrics_listen, "127.0.0.1:7071");
  ASSERT_EQ(cfg->sources.size(), 2u);
  EXPECT_EQ(cfg->sources[0].name, "shop");
  EXPECT_EQ(cfg->sources[0].kind, v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(cfg->sources[0].password, "from-file-1");
  EXPECT_EQ(cfg->sources[0].server_id, 4711u);
  EXPECT_EQ(cfg->sources[1].name, "app");
  EXPECT_EQ(cfg->sources[1].kind, v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(cfg->sources[1].password, "from-env-APP_PG_PASSWORD");
  EXPECT_EQ(cfg->sources[1].slot, "sluice_app");
}

// The container of a pod spec that runs the sluice image, or an undefined node.
YAML::Node SluiceContainer(const YAML::Node& pod_spec) {
  for (const YAML::Node& c : pod_spec["containers"]) {
    if (c["image"] && c["image"].as<std::string>().starts_with("sluice:")) return c;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

int ContainerPort(const YAML::Node& container, const YAML::Node& port) {
  if (port.as<std::string>().find_first_not_of("0123456789") == std::string::npos) {
    return port.as<int>();
  }
  for (const YAML::Node& p : container["ports"]) {
    if (p["name"] && p["name"].as<std::string>() == port.as<std::string>()) {
      return p["containerPort"].as<int>();
    }
  }
  return -1;
}

std::string MountPath(const YAML::Node& container, const std::string& volume) {
  for (const YAML::Node& m : container["volumeMounts"]) {
    if (m["name"].as<std::string>() == volume) return m["mountPath"].as<std::string>();
  }
  return "";
}

TEST(DeployFiles, KubernetesManifestsAreCompleteAndProbeSluiced) {
  int pods = 0;
  for (const fs::path& path : YamlFiles()) {
    if (path.parent_path().filename() != "kubernetes") continue;
    std::map<std::string, YAML::Node> config_maps;
    std::map<std::string, YAML::Node> secrets;
    std::vector<YAML::Node> workloads;
    for (const YAML::Node& doc : LoadAll(path)) {
      SCOPED_TRACE(path.string());
      ASSERT_TRUE(doc["apiVersion"] && doc["apiVersion"].IsScalar()) << "apiVersion missing";
      ASSERT_TRUE(doc["kind"] && doc["kind"].IsScalar()) << "kind missing";
      ASSERT_TRUE(doc["metadata"] && doc["metadata"]["name"] && doc["metadata"]["name"].IsScalar())
          << "metadata.name missing";
      const std::string kind = doc["kind"].as<std::string>();
      const std::string name = doc["metadata"]["name"].as<std::string>();
      if (kind == "ConfigMap") config_maps[name] = doc;
      if (kind == "Secret") secrets[name] = doc;
      if (kind == "StatefulSet" || kind == "Deployment" || kind == "Pod") workloads.push_back(doc);
    }
    for (const YAML::Node& workload : workloads) {
      SCOPED_TRACE(path.string() + ": " + workload["metadata"]["name"].as<std::string>());
      const bool is_pod = workload["kind"].as<std::string>() == "Pod";
      const YAML::Node spec = is_pod ? workload["spec"] : workload["spec"]["template"]["spec"];
      const YAML::Node sluice = SluiceContainer(spec);
      ASSERT_TRUE(sluice.IsDefined()) << "no container runs a sluice: image";
      ++pods;
      const YAML::Node live = sluice["livenessProbe"]["httpGet"];
      const YAML::Node ready = sluice["readinessProbe"]["httpGet"];
      ASSERT_TRUE(live.IsDefined() && ready.IsDefined()) << "sluice needs httpGet probes";
      EXPECT_EQ(live["path"].as<std::string>(), "/healthz");
      EXPECT_EQ(ready["path"].as<std::string>(), "/readyz");
      EXPECT_EQ(ContainerPort(sluice, live["port"]), 7071);
      EXPECT_EQ(ContainerPort(sluice, ready["port"]), 7071);

      // The config the image's ENTRYPOINT reads comes from a ConfigMap in this file, and
      // sluiced accepts it; its metrics port is the probes' port and its data dir is a volume.
      std::string config_volume;
      std::string config_key;
      for (const YAML::Node& m : sluice["volumeMounts"]) {
        if (m["mountPath"].as<std::string>() == "/etc/sluice/sluice.yaml") {
          config_volume = m["name"].as<std::string>();
          config_key = m["subPath"].as<std::string>();
        }
      }
      ASSERT_FALSE(config_volume.empty()) << "nothing is mounted at /etc/sluice/sluice.yaml";
      std::string config_map;
      std::string secret_name;
      std::string secret_volume;
      for (const YAML::Node& v : spec["volumes"]) {
        if (v["name"].as<std::string>() == config_volume && v["configMap"]) {
          config_map = v["configMap"]["name"].as<std::string>();
        }
        if (v["secret"]) {
          secret_volume = v["name"].as<std::string>();
          secret_name = v["secret"]["secretName"].as<std::string>();
        }
      }
      ASSERT_EQ(config_maps.count(config_map), 1u) << "ConfigMap \"" << config_map << "\"";
      const YAML::Node data = config_maps[config_map]["data"][config_key];
      ASSERT_TRUE(data.IsScalar()) << "ConfigMap " << config_map << " has no key " << config_key;
      ScratchDir scratch;
      auto cfg = LoadDeployedConfig(data.as<std::string>(), scratch);
      ASSERT_TRUE(cfg.ok()) << cfg.status();
      EXPECT_TRUE(cfg->metrics_listen.ends_with(":7071")) << cfg->metrics_listen;
      EXPECT_FALSE(cfg->metrics_listen.starts_with("127.")) << "the kubelet cannot probe loopback";
      bool data_dir_is_a_volume = MountPath(sluice, "sluice-data") == cfg->data_dir;
      if (workload["spec"]["volumeClaimTemplates"]) {
        bool claimed = false;
        for (const YAML::Node& t : workload["spec"]["volumeClaimTemplates"]) {
          claimed = claimed || t["metadata"]["name"].as<std::string>() == "sluice-data";
        }
        data_dir_is_a_volume = data_dir_is_a_volume && claimed;
      }
      EXPECT_TRUE(data_dir_is_a_volume) << "data_dir " << cfg->data_dir << " is not on a PVC";

      // Each password_file lies in the mounted Secret, under a key the Secret has.
      ASSERT_EQ(secrets.count(secret_name), 1u) << "Secret \"" << secret_name << "\"";
      const std::string secret_dir = MountPath(sluice, secret_volume);
      const std::string yaml = data.as<std::string>();
      static const std::regex kPasswordFile("password_file:[ \\t]*(\\S+)");
      int password_files = 0;
      for (auto it = std::sregex_iterator(yaml.begin(), yaml.end(), kPasswordFile);
           it != std::sregex_iterator(); ++it) {
        ++password_files;
        const fs::path file((*it)[1].str());
        EXPECT_EQ(file.parent_path().string(), secret_dir);
        EXPECT_TRUE(secrets[secret_name]["stringData"][file.filename().string()].IsDefined())
            << "Secret " << secret_name << " has no key " << file.filename();
      }
      EXPECT_GT(password_files, 0) << "the password should come from the Secret as a file";
    }
  }
  EXPECT_GT(pods, 0) << "no workload runs sluice in deploy/kubernetes";
}

TEST(DeployFiles, ComposeRunsBothDatabasesAndSluicedWithItsConfig) {
  const fs::path compose_file = DeployDir() / "docker-compose.yaml";
  const std::vector<YAML::Node> docs = LoadAll(compose_file);
  ASSERT_EQ(docs.size(), 1u);
  const YAML::Node services = docs[0]["services"];
  ASSERT_TRUE(services.IsMap());
  EXPECT_EQ(services["mariadb"]["image"].as<std::string>(), "mariadb:10.11");
  EXPECT_EQ(services["postgres"]["image"].as<std::string>(), "postgres:15");
  bool logical = false;
  for (const YAML::Node& arg : services["postgres"]["command"]) {
    logical = logical || arg.as<std::string>() == "wal_level=logical";
  }
  EXPECT_TRUE(logical) << "postgres needs -c wal_level=logical";
  const YAML::Node sluice = services["sluice"];
  EXPECT_EQ(sluice["build"]["dockerfile"].as<std::string>(), "deploy/Dockerfile");
  EXPECT_TRUE(fs::exists(DeployDir() / sluice["build"]["context"].as<std::string>() /
                         sluice["build"]["dockerfile"].as<std::string>()));

  // Every bind mount exists; the one at /etc/sluice/sluice.yaml is accepted by sluiced with the
  // environment the service gives it.
  fs::path sluice_config;
  for (const auto& entry : services) {
    const std::string name = entry.first.as<std::string>();
    for (const YAML::Node& volume : entry.second["volumes"]) {
      const std::string spec = volume.as<std::string>();
      if (!spec.starts_with("./")) continue;
      const std::string source = spec.substr(0, spec.find(':'));
      EXPECT_TRUE(fs::exists(DeployDir() / source)) << name << " mounts missing " << source;
      if (spec.find(":/etc/sluice/sluice.yaml") != std::string::npos) {
        sluice_config = DeployDir() / source;
      }
    }
  }
  ASSERT_FALSE(sluice_config.empty()) << "sluice gets no /etc/sluice/sluice.yaml";
  const std::string yaml = ReadFile(sluice_config);
  static const std::regex kEnv("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
  for (auto it = std::sregex_iterator(yaml.begin(), yaml.end(), kEnv); it != std::sregex_iterator();
       ++it) {
    EXPECT_TRUE(sluice["environment"][(*it)[1].str()].IsDefined())
        << (*it)[1].str() << " is used in " << sluice_config << " but not set for the service";
  }
  ScratchDir scratch;
  auto cfg = LoadDeployedConfig(yaml, scratch);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->sources.size(), 2u);
  EXPECT_EQ(cfg->sources[0].host, "mariadb");
  EXPECT_EQ(cfg->sources[1].host, "postgres");
}

}  // namespace
}  // namespace sluice
