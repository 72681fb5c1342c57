#include "bridge/egress.hh"

#include <algorithm>

namespace vnet::bridge {

using packet::Frame;

Status EgressChain::add(std::unique_ptr<EgressStage> stage, size_t at) {
  if (!stage) return make_error(EINVAL, "no stage given");
  if (find(stage->name())) {
    return make_error(EEXIST, "an egress stage named '{}' is already on this port", stage->name());
  }
  at = std::min(at, stages_.size());
  stage->observer_ = observer_;
  stages_.insert(stages_.begin() + static_cast<long>(at), Slot{std::move(stage), 0});
  return {};
}

void EgressChain::set_drop_observer(DropObserver* observer) {
  observer_ = observer;
  for (auto& s : stages_) s.stage->observer_ = observer;
}

EgressStage* EgressChain::find(std::string_view name) {
  for (auto& s : stages_) {
    if (s.stage->name() == name) return s.stage.get();
  }
  return nullptr;
}

Result<std::unique_ptr<EgressStage>> EgressChain::remove(std::string_view name, HeldFrames held,
                                                         std::vector<Frame>& out, TimePoint now) {
  auto it = std::find_if(stages_.begin(), stages_.end(),
                         [&](const Slot& s) { return s.stage->name() == name; });
  if (it == stages_.end()) {
    return make_error(ENOENT, "no egress stage named '{}' on this port", name);
  }
  size_t index = static_cast<size_t>(it - stages_.begin());
  std::unique_ptr<EgressStage> stage = std::move(it->stage);
  stages_.erase(it);
  std::vector<Frame> frames;
  stage->take_held(frames);
  if (held == HeldFrames::kDrop) {
    stage->count_drop(frames.size());
    return stage;
  }
  run_from(index, frames, now);  // the stages after it, which now start at `index`
  for (auto& f : frames) out.push_back(std::move(f));
  return stage;
}

std::vector<EgressStageInfo> EgressChain::info() const {
  std::vector<EgressStageInfo> out;
  for (auto& s : stages_) {
    out.push_back(EgressStageInfo{std::string(s.stage->name()), s.passed, s.stage->dropped(),
                                  s.stage->held()});
  }
  return out;
}

void EgressChain::run_from(size_t first, std::vector<Frame>& frames, TimePoint now) {
  for (size_t i = first; i < stages_.size() && !frames.empty(); ++i) {
    tmp_.clear();
    stages_[i].stage->process(frames, tmp_, now);
    stages_[i].passed += tmp_.size();
    frames.clear();
    frames.swap(tmp_);
  }
}

void EgressChain::run(std::vector<Frame>& frames, TimePoint now) { run_from(0, frames, now); }

void EgressChain::release(TimePoint now, std::vector<Frame>& out) {
  for (size_t i = 0; i < stages_.size(); ++i) {
    EgressStage& s = *stages_[i].stage;
    auto due = s.next_due();
    if (!due || *due > now) continue;
    released_.clear();
    s.release(now, released_);
    stages_[i].passed += released_.size();
    run_from(i + 1, released_, now);
    for (auto& f : released_) out.push_back(std::move(f));
  }
}

std::optional<TimePoint> EgressChain::next_due() const {
  std::optional<TimePoint> due;
  for (auto& s : stages_) {
    auto d = s.stage->next_due();
    if (d && (!due || *d < *due)) due = d;
  }
  return due;
}

size_t EgressChain::held() const {
  size_t n = 0;
  for (auto& s : stages_) n += s.stage->held();
  return n;
}

size_t EgressChain::drop_held() {
  size_t n = 0;
  std::vector<Frame> frames;
  for (auto& s : stages_) {
    frames.clear();
    s.stage->take_held(frames);
    s.stage->count_drop(frames.size());
    n += frames.size();
  }
  return n;
}

}  // namespace vnet::bridge
