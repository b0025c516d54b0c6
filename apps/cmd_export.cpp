// `grindstone export NET.snn.h5 (--nir FILE | --pynn FILE)`: writes a converted network in an
// interchange format (converter/export).
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "converter/export/nir.hpp"
#include "converter/export/pynn.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

namespace {

struct ExportCommand {
  CommonOptions common;
  std::filesystem::path network;
  std::optional<std::filesystem::path> nir;
  std::optional<std::filesystem::path> pynn;
};

void run_export(const ExportCommand& c) {
  if (!c.nir && !c.pynn) throw InputError("export: give --nir FILE or --pynn FILE");
  const snn::Network net = snn::load_network(c.network);
  nlohmann::json report = {{"network", c.network.string()}};
  std::ostringstream human;
  if (c.nir) {
    exporters::export_nir(net, *c.nir);
    report["nir"] = c.nir->string();
    human << "wrote NIR graph " << c.nir->string() << "\n";
  }
  if (c.pynn) {
    exporters::export_pynn(net, *c.pynn);
    report["pynn"] = c.pynn->string();
    human << "wrote PyNN script " << c.pynn->string() << " (run: python3 " << c.pynn->string()
          << " --simulator brian2 --limit 100)\n";
  }
  emit(c.common, report, human.str());
}

}  // namespace

void register_export(CLI::App& app) {
  auto c = std::make_shared<ExportCommand>();
  auto* cmd = app.add_subcommand("export", "Export a converted network to NIR (HDF5) or a PyNN script");
  add_common_options(*cmd, c->common);
  cmd->add_option("network", c->network, "Converted network (.snn.h5)")->required();
  cmd->add_option("--nir", c->nir, "Write a NIR graph (HDF5) here");
  cmd->add_option("--pynn", c->pynn, "Write a standalone PyNN script here");
  cmd->callback([c] { run_export(*c); });
}

}  // namespace grindstone::cli
