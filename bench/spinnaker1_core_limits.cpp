// Benchmark: the per-core limits of the SpiNNaker 1 cost model (issue 17 item 4). For rows of
// 1 to 256 synapses, the sustained synaptic events per second one application core takes when
// packets arrive back to back — each costs CoreTiming::packet_cycles (per-packet cost + synapse
// processing overlapped with the row's DMA, exactly what PacketDelivery charges per packet) — both
// with the CPU to itself and with the timer event of a full 256-neuron core every tick taken out
// (timestep 1 ms, tsf 1). Printed against the published figure: Rhodes et al. 2018 (sPyNNaker
// 4.0.0), "within a factor of 2 of the original design target of 10,000 synaptic events per
// millisecond" per core, i.e. 5–10 M events/s. One JSON object.
//
//   bench_spinnaker1_core_limits [--per-synapse CYCLES] [--per-packet CYCLES]
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "hw_model/spinnaker1/core_budget.hpp"
#include "hw_model/spinnaker1/timing.hpp"

int main(int argc, char** argv) {
  using namespace grindstone;
  namespace s1 = hw::s1;
  try {
    s1::CoreTiming::Params p;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) throw InputError(a + ": missing value");
      if (a == "--per-synapse") p.per_synaptic_event = s1::Cycles(std::stoll(argv[++i]));
      else if (a == "--per-packet") p.per_spike_received = s1::Cycles(std::stoll(argv[++i]));
      else throw InputError(a + ": unknown option");
    }
    const s1::CoreTiming timing(p);
    s1::TimingParams tp;
    tp.core = p;
    const double hz = p.clock.hz;
    const s1::Cycles tick = tp.cycles_per_tick();
    const s1::Cycles timer = timing.timer_cycles(256, 0);
    const double published_design = 10'000.0 * 1000.0;  // events/s: 10,000 per ms
    nlohmann::json rows = nlohmann::json::array();
    for (const int n : {1, 4, 16, 32, 64, 100, 128, 200, 256}) {
      const s1::Cycles per_packet = timing.packet_cycles(n, s1::CoreBudget::row_bytes(n));
      const double peak = hz * n / static_cast<double>(per_packet.value);
      // Packets that fit in a 1 ms tick after a full core's timer event.
      const std::int64_t fit = (tick - timer).value / per_packet.value;
      const double sustained = static_cast<double>(fit * n) * 1000.0;
      rows.push_back({{"row_synapses", n},
                      {"cycles_per_packet", per_packet.value},
                      {"peak_events_per_second", peak},
                      {"packets_per_1ms_tick_after_256_neuron_update", fit},
                      {"sustained_events_per_second_tsf1", sustained},
                      {"vs_design_target_10k_per_ms", sustained / published_design}});
    }
    nlohmann::json j;
    j["clock_hz"] = hz;
    j["per_spike_received_cycles"] = p.per_spike_received.value;
    j["per_synaptic_event_cycles"] = p.per_synaptic_event.value;
    j["dma_bytes_per_cycle"] = p.dma_bytes_per_cycle;
    j["timer_event_cycles_256_neurons"] = timer.value;
    j["tick_cycles_tsf1"] = tick.value;
    j["published"] = {{"source", "Rhodes et al. 2018, Front. Neurosci. 12:816 (sPyNNaker 4.0.0), abstract"},
                      {"design_target_events_per_second", published_design},
                      {"reported_range_events_per_second", {published_design / 2.0, published_design}}};
    j["rows"] = rows;
    std::cout << j.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_spinnaker1_core_limits: " << e.what() << "\n";
    return 2;
  }
}
