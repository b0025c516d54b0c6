#include "hw_model/spinnaker2/pe.hpp"

namespace grindstone::hw::s2 {

ArmCore::ArmCore() : ArmCore(Params{}) {}

ArmCore::Stats& ArmCore::Stats::operator+=(const Stats& o) {
  spikes_received += o.spikes_received;
  synaptic_events += o.synaptic_events;
  neuron_updates += o.neuron_updates;
  spikes_sent += o.spikes_sent;
  cycles += o.cycles;
  return *this;
}

Cycles ArmCore::process(std::int64_t spikes_received, std::int64_t synaptic_events, std::int64_t neuron_updates,
                        std::int64_t spikes_sent) {
  const Cycles cycles = params_.cycles_per_spike_received * spikes_received +
                        params_.cycles_per_synaptic_event * synaptic_events +
                        params_.cycles_per_neuron_update * neuron_updates + params_.cycles_per_spike_sent * spikes_sent;
  stats_.spikes_received += spikes_received;
  stats_.synaptic_events += synaptic_events;
  stats_.neuron_updates += neuron_updates;
  stats_.spikes_sent += spikes_sent;
  stats_.cycles += cycles.count;
  return cycles;
}

}  // namespace grindstone::hw::s2
