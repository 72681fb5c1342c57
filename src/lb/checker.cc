#include "lb/checker.hh"

namespace vnet::lb {

ProbeOutcome ProbeOutcome::from_exit_status(int status, bool misc_dynamic) {
  if (status == 0) return {true, std::nullopt};
  if (misc_dynamic && status >= 2 && status <= 255) return {true, status - 2};
  return {false, std::nullopt};
}

Checker::Checker(const CheckerTiming& timing, TimePoint start, Random& random)
    : timing_(timing), up_(!timing.alpha) {
  Duration warmup{0};
  if (timing.warmup.count() > 0) {
    warmup = Duration(Duration::rep(random.between(0, uint64_t(timing.warmup.count()))));
  }
  deadline_ = start + kBootstrapDelay + warmup;
  retry_it_ = timing.retry;  // check_data.c: at start one failure is enough
}

Checker Checker::migrate(const Checker& old, const CheckerTiming& timing) {
  Checker c = old;
  c.timing_ = timing;
  c.actions_.clear();
  if (c.retry_it_ > timing.retry) c.retry_it_ = timing.retry;
  return c;
}

void Checker::tick(TimePoint now) {
  if (now < deadline_) return;
  if (running_) {
    actions_.push_back(AbortProbe{running_, timing_.timeout_passes});
    running_ = 0;
    finish(deadline_, timing_.timeout_passes ? ProbeOutcome::ok() : ProbeOutcome::failed());
    if (now < deadline_) return;
  }
  running_ = next_id_++;
  probe_started_ = now;
  deadline_ = now + timing_.timeout;
  unsigned retry = has_run_ ? retry_it_ : 0;
  actions_.push_back(StartProbe{running_, timing_.timeout, retry});
}

void Checker::on_outcome(uint64_t id, TimePoint now, const ProbeOutcome& outcome) {
  if (id == 0 || id != running_) return;
  running_ = 0;
  finish(now, outcome);
}

// tcp_epilog() / misc_check_child_thread(): counts the outcome and schedules the next probe.
void Checker::finish(TimePoint now, const ProbeOutcome& outcome) {
  bool first = !has_run_;
  has_run_ = true;
  Duration delay;
  if (outcome.success) {
    retry_it_ = 0;
    delay = timing_.delay_loop;
    if (outcome.weight != weight_) {
      weight_ = outcome.weight;
      actions_.push_back(DynamicWeight{weight_});
    }
    if (!up_) {
      up_ = true;
      actions_.push_back(CheckerState{true});
    }
  } else if (retry_it_ < timing_.retry &&
             (!(timing_.misc || timing_.retry_only_up) || up_ || first)) {
    ++retry_it_;
    delay = timing_.delay_before_retry;
  } else {
    retry_it_ = 0;
    delay = timing_.delay_loop;
    if (weight_) {
      weight_.reset();
      actions_.push_back(DynamicWeight{std::nullopt});
    }
    if (up_) {
      up_ = false;
      actions_.push_back(CheckerState{false});
    }
  }
  deadline_ = (timing_.misc ? probe_started_ : now) + delay;
  if (deadline_ < now) deadline_ = now;
}

}  // namespace vnet::lb
