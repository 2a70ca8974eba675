// Running the built sagbench binary as real processes for the distributed
// tests: alone, or under Open MPI's mpirun with the options a network-less
// container needs (shared-memory transport only, no CMA single copy,
// oversubscribed slots, --allow-run-as-root when root). Every process runs
// under a deadline and is killed with its process group past it, so a hang is
// a test failure, never a hung CI job. Optional RLIMIT_FSIZE (with SIGXFSZ
// ignored) makes writes fail as on a full disk. Processes run in `log_dir`,
// which also receives their stdout and stderr.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sagbench::distributed::testing {

struct ProcessResult {
  int status = -1;  // exit status, or 128 + signal
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  double elapsed_s = 0;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to the environment
  std::uint64_t file_limit_bytes = 0;      // RLIMIT_FSIZE; 0 = none
  double timeout_s = 180;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline ProcessResult run_process(const std::vector<std::string>& argv, const std::string& log_dir,
                                 const ProcessOptions& options = {}) {
  static int counter = 0;
  const std::string stem = log_dir + "/process_" + std::to_string(counter++);
  const std::string out_path = stem + ".out";
  const std::string err_path = stem + ".err";
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(log_dir.c_str()) != 0) {
      ::_exit(126);
    }
    for (const auto& [name, value] : options.env) {
      ::setenv(name.c_str(), value.c_str(), 1);
    }
    if (options.file_limit_bytes > 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead of killing
      const rlimit limit{options.file_limit_bytes, options.file_limit_bytes};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ProcessResult result;
  int wait_status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) {
      break;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > options.timeout_s) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &wait_status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  result.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

// Whether mpirun can be started here.
inline bool have_mpirun() {
  return std::system("mpirun --version > /dev/null 2>&1") == 0;
}

// mpirun -np N with the options of a container without network; `extra`
// MCA settings come before the program.
inline std::vector<std::string> mpirun(int np, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"mpirun",
                                   "-np",
                                   std::to_string(np),
                                   "--oversubscribe",
                                   "--bind-to",
                                   "none",
                                   "--mca",
                                   "btl",
                                   "self,vader",
                                   "--mca",
                                   "btl_vader_single_copy_mechanism",
                                   "none"};
  if (::geteuid() == 0) {
    argv.push_back("--allow-run-as-root");
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

inline std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Markers of a shard directory: file name -> contents.
inline std::map<std::string, std::string> markers(const std::string& shard_dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(shard_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".done") == 0) {
      out[name] = slurp(entry.path().string());
    }
  }
  return out;
}

}  // namespace sagbench::distributed::testing
