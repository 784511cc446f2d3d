// The PostgreSQL backend of store/sql.h over libpq: one connection, text-format parameters, errors
// classified by SQLSTATE.
#include <libpq-fe.h>


#include "store/sql.h"

namespace cw::store::sql {
namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

Status ErrorOf(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string msg = std::string(what) + ": " + message;
  if (PQstatus(conn) != CONNECTION_OK) return Unavailable(msg);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view code = state ? state : "";
  if (code == "23505") return AlreadyExists(msg);
  if (code.starts_with("23")) return FailedPrecondition(msg);
  if (code == "40001" || code == "40P01" || code.starts_with("08") || code.starts_with("57P")) return Unavailable(msg);
  if (code.starts_with("22")) return InvalidArgument(msg);
  return Internal(msg);
}

class PgTx final : public Tx {
 public:
  explicit PgTx(PGconn* conn) : conn_(conn) {}

  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params) override {
    CW_ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    Rows rows;
    int n = PQntuples(res.get()), columns = PQnfields(res.get());
    rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) {
      std::vector<std::optional<std::string>> cells;
      cells.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          cells.emplace_back();
        } else {
          cells.emplace_back(std::string(PQgetvalue(res.get(), r, c), static_cast<size_t>(PQgetlength(res.get(), r, c))));
        }
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params) override {
    CW_ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    const char* affected = PQcmdTuples(res.get());
    return affected && *affected ? std::stoll(affected) : int64_t{0};
  }

  // A parameterless, possibly multi-statement script.
  Status Script(std::string_view sql) {
    std::string text(sql);
    ResultPtr res(PQexec(conn_, text.c_str()), PQclear);
    auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ErrorOf(conn_, res.get(), "postgresql script");
    return Status::Ok();
  }

 private:
  Result<ResultPtr> Run(std::string_view sql, std::initializer_list<Value> params) {
    std::vector<std::string> text;
    std::vector<const char*> values;
    text.reserve(params.size());
    for (const Value& v : params) {
      if (const auto* i = std::get_if<int64_t>(&v)) {
        text.push_back(std::to_string(*i));
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        text.push_back(*s);
      } else {
        text.emplace_back();
      }
    }
    size_t k = 0;
    for (const Value& v : params) {
      values.push_back(std::holds_alternative<std::nullptr_t>(v) ? nullptr : text[k].c_str());
      ++k;
    }
    std::string statement(sql);
    ResultPtr res(PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0),
                  PQclear);
    auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return ErrorOf(conn_, res.get(), "postgresql '" + statement.substr(0, 80) + "'");
    }
    return res;
  }

  PGconn* conn_;
};

void IgnoreNotice(void*, const char*) {}

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(PGconn* conn) : conn_(conn) { PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr); }
  ~PgDatabase() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

 protected:
  Tx& connection() override { return tx_; }
  Status Script(std::string_view sql) override { return tx_.Script(sql); }
  Status EnsureConnected() override {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) return ErrorOf(conn_, nullptr, "postgresql reconnect");
    return tx_.Script("SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  }
  bool Connected() const override { return PQstatus(conn_) == CONNECTION_OK; }

 private:
  PGconn* conn_;
  PgTx tx_{conn_};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  auto db = std::make_unique<PgDatabase>(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return Unavailable("connect to postgresql: " + message);
  }
  PgTx tx(conn);
  CW_RETURN_IF_ERROR(tx.Script("SET client_min_messages = warning; SET TIME ZONE 'UTC'"));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cw::store::sql
