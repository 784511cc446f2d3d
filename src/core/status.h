// core/status.h — errors are values.
//
// Every fallible call returns a Status or a Result<T>. The Code classifies the failure so that a caller
// can decide what to do without parsing messages: retry (IsRetryable), report not-found, or give up.
// Messages are for humans and name the thing that failed ("cart CART-000042 is not registered").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cw {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; permanent
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // create/put-if-absent found something in the way
  kFailedPrecondition,  // the system is not in a state that allows this (e.g. PKI not initialised)
  kPermissionDenied,    // authenticated but not allowed
  kUnavailable,         // transient: a peer or resource is down; retry with backoff
  kDeadlineExceeded,    // transient: ran out of time
  kCorruption,          // stored data is damaged
  kUnsupported,         // valid request this build or backend does not implement
  kInternal,            // a bug or an unexpected failure of a dependency
  kUnauthenticated,     // no valid credentials (missing, expired or wrong)
  kResourceExhausted,   // a limit was hit (too many attempts, too large); retry later
};

std::string_view CodeName(Code code);

// Transient failures worth retrying with backoff; everything else is permanent for the same input.
inline bool IsRetryable(Code code) {
  return code == Code::kUnavailable || code == Code::kDeadlineExceeded;
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: cart CART-000042 is not registered"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status FailedPrecondition(std::string message);
Status PermissionDenied(std::string message);
Status Unavailable(std::string message);
Status DeadlineExceeded(std::string message);
Status Corruption(std::string message);
Status Unsupported(std::string message);
Status Internal(std::string message);
Status Unauthenticated(std::string message);
Status ResourceExhausted(std::string message);

// Result<T, E>: a T, or an error E (a Status unless a module has a richer error type, e.g. a wire
// Rejection). Accessing value() of an error is a programming bug and aborts.
template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design
  // A Status where E is a richer error built from one (the API's HttpError): errors of the layers
  // below flow up through CW_RETURN_IF_ERROR and CW_ASSIGN_OR_RETURN unchanged.
  template <typename S>
    requires(std::is_same_v<S, Status> && !std::is_same_v<E, Status> && std::is_constructible_v<E, Status>)
  Result(S status) : v_(std::in_place_index<1>, E(std::move(status))) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }
  // Status-compatible accessor so CW_RETURN_IF_ERROR works on Results.
  // Error types other than Status convert through a ToStatus() member when they have one.
  Status status() const {
    if (ok()) return Status::Ok();
    if constexpr (std::is_same_v<E, Status>) {
      return std::get<1>(v_);
    } else if constexpr (requires(const E& e) { e.ToStatus(); }) {
      return std::get<1>(v_).ToStatus();
    } else {
      return Internal("error value without a Status form");
    }
  }

  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  T& Checked();
  std::variant<T, E> v_;
};

[[noreturn]] void DieOnBadResultAccess(const std::string& what);

template <typename T, typename E>
T& Result<T, E>::Checked() {
  if (!ok()) DieOnBadResultAccess(status().ToString());
  return std::get<0>(v_);
}

}  // namespace cw

#define CW_CONCAT_INNER(a, b) a##b
#define CW_CONCAT(a, b) CW_CONCAT_INNER(a, b)

// Returns the error of a Status or Result expression from the enclosing function.
#define CW_RETURN_IF_ERROR(expr)                          \
  do {                                                    \
    auto&& cw_status_or_result_ = (expr);                 \
    if (!cw_status_or_result_.ok()) {                     \
      return ::cw::internal::ErrorOf(cw_status_or_result_); \
    }                                                     \
  } while (0)

// `CW_ASSIGN_OR_RETURN(auto x, MakeX());` — binds the value or returns the error.
#define CW_ASSIGN_OR_RETURN(lhs, expr) \
  CW_ASSIGN_OR_RETURN_IMPL(CW_CONCAT(cw_result_, __LINE__), lhs, expr)
#define CW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).error();  \
  lhs = std::move(tmp).value()

namespace cw::internal {
inline Status ErrorOf(const Status& s) { return s; }
template <typename T, typename E>
const E& ErrorOf(const Result<T, E>& r) {
  return r.error();
}
}  // namespace cw::internal
