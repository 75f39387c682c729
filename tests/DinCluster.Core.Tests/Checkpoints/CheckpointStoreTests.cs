using DinCluster.Core.Checkpoints;

namespace DinCluster.Core.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dincluster-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Write(CheckpointStore store, long step, string content)
    {
        var pending = store.Begin(step);
        File.WriteAllText(pending.PathOf("dense.bin"), content);
        File.WriteAllText(pending.PathOf("table.bin"), content + "-table");
        return pending.Commit(new CheckpointManifest { Epoch = 1 });
    }

    [Fact]
    public void Latest_returns_newest_committed_checkpoint_when_all_verify()
    {
        var store = new CheckpointStore(_root);
        Write(store, 10, "a");
        var second = Write(store, 20, "b");
        var latest = store.Latest();
        Assert.NotNull(latest);
        Assert.Equal(second, latest.Value.Directory);
        Assert.Equal(20, latest.Value.Manifest.Step);
        Assert.Equal(2, latest.Value.Manifest.Files.Count);
    }

    [Fact]
    public void Latest_refuses_checkpoint_by_name_and_falls_back_when_a_file_is_corrupt()
    {
        var store = new CheckpointStore(_root);
        var first = Write(store, 10, "a");
        var second = Write(store, 20, "b");
        File.WriteAllText(Path.Combine(second, "dense.bin"), "x"); // same length, other bytes
        var refused = new List<(string Dir, string Why)>();
        var latest = store.Latest((d, why) => refused.Add((d, why)));
        Assert.Equal(first, latest!.Value.Directory);
        var (dir, why) = Assert.Single(refused);
        Assert.Equal(second, dir);
        Assert.Contains("dense.bin fails its SHA-256 checksum", why);
    }

    [Fact]
    public void Latest_ignores_unfinished_write_when_writer_crashed_before_commit()
    {
        var store = new CheckpointStore(_root);
        var first = Write(store, 10, "a");
        var pending = store.Begin(20);
        File.WriteAllText(pending.PathOf("dense.bin"), "half");
        // No commit: as if the process died here.
        Assert.Equal(first, store.Latest()!.Value.Directory);
        // The next writer clears the leftover.
        Write(store, 30, "c");
        Assert.DoesNotContain(Directory.GetDirectories(_root), d => d.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Commit_keeps_only_the_newest_checkpoints_when_more_are_written()
    {
        var store = new CheckpointStore(_root, keep: 2);
        for (var s = 1; s <= 4; s++) Write(store, s, "v" + s);
        Assert.Equal(2, store.Committed().Count());
        Assert.Equal(4, store.Latest()!.Value.Manifest.Step);
    }

    [Fact]
    public void Open_names_the_problem_when_manifest_is_missing()
    {
        var dir = Path.Combine(_root, "ckpt-000000000001");
        Directory.CreateDirectory(dir);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointStore.Open(dir));
        Assert.Contains("manifest.json is missing", e.Message);
        Assert.Contains(dir, e.Message);
    }
}
