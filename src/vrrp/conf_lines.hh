#pragma once
// keepalived.conf's line-level language, before words and blocks: comments, conditional lines,
// parameter definitions and substitution, and sequence blocks (keepalived 2.2.7 lib/parser.c
// read_line(), decomment(), check_definition(), replace_param(), add_seq(); keepalived.conf(5)
// "Conditional configuration and configuration id", "Parameter substitution", "Sequence blocks").
// One physical line goes in; the logical lines it stands for come out, in order.
//
// Rules, as keepalived applies them to each line:
//  - Comments: '!' or '#' outside "quotes" ends the line; "\#" and "\!" are the characters.
//    Leading and trailing blanks go.
//  - `@ID rest`: rest only when the config id is ID; `@^ID rest`: rest unless it is ID. Without a
//    config id (none given), `@ID` lines are dropped and `@^ID` lines kept. `@ID` with nothing
//    after it is dropped.
//  - `$NAME=VALUE` (NAME: a letter or '_', then letters, digits, '_'; no blank before '=') defines
//    or redefines NAME; blanks after '=' go. A VALUE ending in '\' continues on the next lines,
//    each but the last ending in '\', up to a blank line: a multi-line definition.
//  - `$NAME` followed by a blank, ',', ')' or the end of the line, and `${NAME}` anywhere, are
//    replaced by NAME's value, at use (not at definition); the result is scanned again from the
//    replacement, so values may use other names. Unknown names stay as written. A multi-line
//    NAME is replaced only at the end of a line: its first line joins the text before it, its
//    other lines follow as lines of their own (each read by these rules again). After a
//    replacement the line is read again from the top (it may now start with '@' or define).
//    _INSTANCE (the config id), _HASH ('#') and _BANG ('!') are predefined.
//  - `~SEQ(VAR, END)`, `~SEQ(VAR, START, END)`, `~SEQ(VAR, START, STEP, END) rest`: rest once
//    for each value, with $VAR set to it (decimal; `~SEQx` hexadecimal, non-negative only).
//    Defaults: START 1 (-1 when END < 0), STEP 1 or -1 towards END. The numbers may be $names;
//    they are C integers (0x hexadecimal). STEP 0 or pointing away from END is an error. rest
//    may itself be a ~SEQ (nested) or use multi-line names.
//  - `~LST(VAR, V1, V2, …) rest`: rest once per value; `~LST({A, B}, {1, 2}, {3, 4}) rest` sets
//    several names per round (missing values blank, too many an error). Values are words.
//
// Bounded: a line at most kMaxExpandedLine bytes after substitution, at most
// kMaxReplacements replacements in one line, expansions (sequences, multi-line values) nested at
// most kMaxExpansionDepth deep, at most kMaxExpandedLines lines and kMaxExpandedBytes bytes made
// in all. A definition that uses itself ($A=$A, or $A=x$B with $B=$A) passes one of them and is
// an error naming the limit; past kMaxExpandedLines or kMaxExpandedBytes nothing more is read.
// Errors are the line's messages without file:line (the caller knows where the line was).
//
// Differences from keepalived 2.2.7, which logs and carries on or loops: what is an error here
// is one in vnet (an invalid ~SEQ is logged by keepalived, a self-referencing definition hangs
// it, a too long line is cut). ~SEQ numbers are strict ("1x" is an error, keepalived reads 1).
// $_PWD and ${_RANDOM} are not read (they stay as written).

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vnet::vrrp {

constexpr size_t kMaxExpandedLine = 64 * 1024;
constexpr size_t kMaxReplacements = 10'000;
constexpr int kMaxExpansionDepth = 16;
constexpr size_t kMaxExpandedLines = 1'000'000;
constexpr size_t kMaxExpandedBytes = 64u << 20;

class ConfLines {
 public:
  using Emit = std::function<void(std::string line)>;
  using Fail = std::function<void(const std::string& message)>;

  // `config_id`: as `-i ID`; nullopt: none.
  explicit ConfLines(std::optional<std::string> config_id);

  // Reads one physical line (without its newline): emits the lines it stands for (none while a
  // multi-line definition continues, or for a comment), reports errors through `fail`.
  void feed(std::string_view line, const Emit& emit, const Fail& fail);
  // A limit on what is made in all was passed: the caller reads no further.
  bool stopped() const { return stopped_; }

  // keepalived's decomment(): the line without its comment and outer blanks; `continued` tells
  // whether it ended in a '\' (kept in the text).
  static std::string decomment(std::string_view line, bool* continued = nullptr);

 private:
  struct Definition {
    std::string value;  // lines separated by '\n' when multi-line
    bool multiline = false;
  };

  void process(std::string line, int depth, const Emit& emit, const Fail& fail);
  bool definition(const std::string& line);
  bool sequence(const std::string& line, int depth, const Emit& emit, const Fail& fail);
  bool list(const std::string& line, int depth, const Emit& emit, const Fail& fail);
  const Definition* find(std::string_view name) const;
  void out(std::string line, const Emit& emit, const Fail& fail);

  std::optional<std::string> config_id_;
  std::map<std::string, Definition, std::less<>> defs_;
  std::string continuing_;  // the multi-line definition being read, "" for none
  size_t lines_ = 0, bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace vnet::vrrp
