// `grindstone`: Keras models → binary spiking networks → SpiNNaker 1/2 models.
// Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 internal error.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <new>

#include "apps/cli_common.hpp"
#include "common/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Grindstone: Keras models to binary spiking networks on SpiNNaker 1 and 2 models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "grindstone 0.1");
  using namespace grindstone::cli;
  // Commands register themselves here as they are built.
  register_run(app);
  register_inspect(app);
  register_eval(app);
  register_sharpen(app);
  register_convert(app);
  register_export(app);
  register_compare(app);
  register_bench(app);
  register_estimate(app);
  register_zoo(app);
  register_sweep(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "grindstone: " << e.what() << '\n';
    return 2;
  } catch (const grindstone::InputError& e) {
    std::cerr << "grindstone: " << e.what() << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "grindstone: out of memory (is a size in the input absurd?)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "grindstone: internal error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
