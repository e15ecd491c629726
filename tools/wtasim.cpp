// The wtasim command line. Subcommands are thin: they parse options, call the libraries and print.
// Every wtasim::error becomes one line on stderr and exit status 1; bad options exit with CLI11's code.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "tools/demo_neurons.hpp"

int main(int argc, char** argv) {
    CLI::App app{"wtasim: winner-take-all spiking transformers — train, simulate, and count the energy"};
    app.set_version_flag("--version", std::string("wtasim ") + WTASIM_VERSION);
    app.require_subcommand(1);

    wtasim::demo_options demo;
    auto* demo_cmd = app.add_subcommand("demo", "Drive a layer of spiking neurons and print its spikes and energy");
    demo_cmd->add_option("--neuron", demo.neuron, "Neuron kind")->check(CLI::IsMember({"lif", "nilif"}));
    demo_cmd->add_option("--backend", demo.backend, "Neuron backend: reference, cpu, cuda");
    demo_cmd->add_option("--threads", demo.threads, "Threads (0 = all)")->check(CLI::NonNegativeNumber);
    demo_cmd->add_option("--steps", demo.steps, "Time steps T")->check(CLI::Range(1, 1000));
    demo_cmd->add_option("--neurons", demo.neurons, "Neurons in the layer")->check(CLI::Range(1, 100000000));
    demo_cmd->add_option("--profile", demo.profile,
                         "Energy profile: a shipped name (horowitz45-fp32, -fp16, -int8) or a JSON file");

    try {
        app.parse(argc, argv);
        if (*demo_cmd) return wtasim::run_demo(demo, std::cout);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const wtasim::error& e) {
        std::fprintf(stderr, "wtasim: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wtasim: internal error: %s\n", e.what());
        return 2;
    }
    return 0;
}
