// The RocksDB OrderedKv: one column family per table, synced write batches, and a compaction
// filter that drops expired values — TTL without a cron job.
#include <algorithm>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "core/files.h"
#include "store/ordered_kv.h"

namespace cw::store {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  std::string msg = what + ": " + s.ToString();
  if (s.IsNotFound()) return NotFound(msg);
  if (s.IsCorruption()) return Corruption(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Unavailable(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Unavailable(msg + " (is another cartwright process using this store?)");
  }
  return Internal(msg);
}

// Drops values whose expiry prefix is at or before the clock's now.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(Clock& clock) : clock_(clock) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*, bool*) const override {
    return ValueExpiry(std::string_view(value.data(), value.size())) <= clock_.Now();
  }
  const char* Name() const override { return "cartwright.ExpiryFilter"; }

 private:
  Clock& clock_;
};

class RocksKv final : public OrderedKv {
 public:
  static constexpr size_t kBlockCacheBytes = 128 << 20;

  static Result<std::unique_ptr<OrderedKv>> Open(const std::string& path, Clock& clock, bool read_only) {
    if (read_only && !PathExists(path + "/CURRENT")) return NotFound("no telemetry store at " + path + " yet");
    CW_RETURN_IF_ERROR(MakeDirs(path, 0700));
    std::unique_ptr<RocksKv> kv(new RocksKv(clock));
    kv->read_only_ = read_only;
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    // Every table file's reader kept open up to here (100M events are about 800 files); a reader
    // evicted from RocksDB's table cache is re-opened, at the cost of its footer and top index.
    db_options.max_open_files = 4096;
    db_options.keep_log_file_num = 4;
    // Bloom filters, so the dedup check of a new (cart, seq) — every accepted event asks — is
    // answered from memory instead of an index and data block per level; and one block cache for
    // all tables, so hot blocks are decompressed once.
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    // Partitioned indexes and filters: one index block per 64 MB table file is about 800 KB, and at
    // 100M events they no longer fit the cache, so every query read and checked whole index blocks
    // (p99 of a cart's newest 100 went from 0.3 ms at 1M to 5 ms at 100M). Partitions are 4 KB and
    // only the small top level is pinned.
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    // A read-only open cannot create a table that a newer release added: it opens the tables the
    // store has and reads the others as empty.
    std::vector<std::string> existing;
    if (read_only) CW_RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(db_options, path, &existing), "open " + path));
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    std::vector<int> table_of_family = {-1};
    for (int t = 0; t < kTableCount; ++t) {
      if (read_only && std::find(existing.begin(), existing.end(), TableName(static_cast<Table>(t))) == existing.end()) {
        continue;
      }
      table_of_family.push_back(t);
      rocksdb::ColumnFamilyOptions cf;
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
      cf.compaction_filter = &kv->filter_;
      families.emplace_back(TableName(static_cast<Table>(t)), cf);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    auto opened = read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, families, &handles, &db)
                            : rocksdb::DB::Open(db_options, path, families, &handles, &db);
    CW_RETURN_IF_ERROR(FromRocks(opened, "open " + path));
    kv->db_.reset(db);
    kv->families_ = handles;
    kv->tables_.assign(kTableCount, nullptr);
    for (size_t i = 1; i < handles.size(); ++i) kv->tables_[static_cast<size_t>(table_of_family[i])] = handles[i];
    return std::unique_ptr<OrderedKv>(std::move(kv));
  }

  ~RocksKv() override {
    for (auto* h : families_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();
  }

  Status Write(const std::vector<Put>& puts) override {
    if (read_only_) return FailedPrecondition("telemetry store opened read-only");
    rocksdb::WriteBatch batch;
    for (const auto& p : puts) batch.Put(cf(p.table), p.key, p.value);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Write(wo, &batch), "write");
  }

  Status Erase(Table table, const std::vector<std::string>& keys) override {
    if (read_only_) return FailedPrecondition("telemetry store opened read-only");
    rocksdb::WriteBatch batch;
    for (const auto& k : keys) batch.Delete(cf(table), k);
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "erase");
  }

  Result<std::optional<std::string>> Get(Table table, const std::string& key) override {
    if (!cf(table)) return std::optional<std::string>();
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), cf(table), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    CW_RETURN_IF_ERROR(FromRocks(s, "get"));
    return std::optional<std::string>(std::move(value));
  }

  Status Scan(Table table, const std::string& from, const std::string& to, bool reverse, const Visitor& visit) override {
    if ((!to.empty() && to <= from) || !cf(table)) return Status::Ok();
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower(from), upper(to);
    ro.iterate_lower_bound = &lower;
    if (!to.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(table)));
    if (reverse) {
      if (to.empty()) {
        it->SeekToLast();
      } else {
        it->SeekForPrev(to);
        if (it->Valid() && it->key() == rocksdb::Slice(to)) it->Prev();
      }
    } else {
      it->Seek(from);
    }
    for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()),
                 std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return FromRocks(it->status(), "scan");
  }

  Status DropExpired(Time) override {
    if (read_only_) return FailedPrecondition("telemetry store opened read-only");
    // A full manual compaction runs every table through the expiry filter.
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* h : families_) CW_RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, h, nullptr, nullptr), "compact"));
    return Status::Ok();
  }

 private:
  explicit RocksKv(Clock& clock) : filter_(clock) {}
  // nullptr for a table missing from a store opened read-only.
  rocksdb::ColumnFamilyHandle* cf(Table t) const { return tables_[static_cast<size_t>(t)]; }

  ExpiryFilter filter_;  // before db_: the DB uses it until closed
  bool read_only_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;  // as opened; [0] is the default family
  std::vector<rocksdb::ColumnFamilyHandle*> tables_;    // indexed by Table
};

}  // namespace

Result<std::unique_ptr<OrderedKv>> OpenRocksKv(const std::string& path, Clock& clock, bool read_only) {
  return RocksKv::Open(path, clock, read_only);
}

}  // namespace cw::store
