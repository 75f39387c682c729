using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class EmbeddingShardTests
{
    private const string Item = "item";
    private const int Dim = 8;

    private static EmbeddingShard Shard(EmbeddingSettings settings) => new([(Item, Dim), ("user", 4)], settings);

    private static EmbeddingSettings Sgd(float lr = 0.5f) =>
        new() { Optimizer = new SparseOptimizerSettings(SparseOptimizerKind.Sgd, lr) };

    private static float[] Pull(EmbeddingShard shard, params long[] ids)
    {
        var dest = new float[ids.Length * shard.Dim(Item)];
        shard.Pull(Item, ids, dest);
        return dest;
    }

    private static float[] Init(long id, EmbeddingSettings s)
    {
        var row = new float[Dim];
        EmbeddingInit.Fill(Item, id, s.Seed, s.InitScale, row);
        return row;
    }

    private static float[] Grad(float value, int rows = 1) => Enumerable.Repeat(value, rows * Dim).ToArray();

    [Fact]
    public void Init_is_the_same_row_whichever_shard_and_shard_count_pulls_it()
    {
        var settings = new EmbeddingSettings { Seed = 99 };
        var ids = new long[] { 0, 1, -1, 42, long.MaxValue, long.MinValue, 1L << 40 };
        var expected = new float[ids.Length * Dim];
        new EmbeddingShard([(Item, Dim)], settings).Pull(Item, ids, expected);
        foreach (var n in new[] { 1, 2, 3, 4, 7 })
        {
            for (var s = 0; s < n; s++)
            {
                var actual = new float[ids.Length * Dim];
                new EmbeddingShard([(Item, Dim)], settings, s, n).Pull(Item, ids, actual);
                Assert.Equal(expected, actual);
            }
            var sharded = new float[ids.Length * Dim];
            new ShardedEmbeddings([(Item, Dim)], n, settings).Pull(Item, ids, sharded);
            Assert.Equal(expected, sharded);
        }
        Assert.All(expected, v => Assert.InRange(v, -0.05f, 0.05f));
        Assert.NotEqual(expected[..Dim], expected[Dim..(2 * Dim)]);
    }

    [Fact]
    public void Init_differs_by_table_and_seed_when_the_id_is_the_same()
    {
        var a = new float[Dim];
        var b = new float[Dim];
        var c = new float[Dim];
        EmbeddingInit.Fill("item", 5, 1, 0.05f, a);
        EmbeddingInit.Fill("category", 5, 1, 0.05f, b);
        EmbeddingInit.Fill("item", 5, 2, 0.05f, c);
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Pull_returns_init_and_creates_no_row_when_the_id_was_never_pushed()
    {
        var settings = Sgd();
        var shard = Shard(settings);
        var bytes = shard.Stats().Bytes;
        Assert.Equal(Init(123, settings), Pull(shard, 123));
        var reply = shard.Pull(Item, [123L, 124L]);
        Assert.Equal((Item, Dim, 2 * Dim), (reply.Table, reply.Dim, reply.Values.Length));
        Assert.Equal(Init(124, settings), reply.Row(1).ToArray());
        Assert.Null(shard.ReadRow(Item, 123));
        Assert.Equal(0, shard.Stats().Rows);
        Assert.Equal(bytes, shard.Stats().Bytes);
    }

    [Fact]
    public void Push_is_ignored_and_counted_when_its_batch_id_was_already_applied()
    {
        var shard = Shard(Sgd());
        Assert.Equal(PushStatus.Applied, shard.Push(Item, [1L, 2L], Grad(0.25f, 2), batchId: 10).Status);
        var after = Pull(shard, 1, 2);
        Assert.Equal(PushStatus.DuplicateIgnored, shard.Push(Item, [1L, 2L], Grad(0.25f, 2), batchId: 10).Status);
        Assert.Equal(after, Pull(shard, 1, 2));
        var stats = shard.Stats();
        Assert.Equal(1, stats.PushesApplied);
        Assert.Equal(1, stats.DuplicatePushesIgnored);
        Assert.Equal(1, shard.ReadRow(Item, 1)!.Updates);
        // Another table keeps its own memory: the same batch id applies there.
        Assert.Equal(PushStatus.Applied, shard.Push("user", [1L], [1f, 1f, 1f, 1f], batchId: 10).Status);
    }

    [Fact]
    public void Push_applies_again_when_its_batch_id_has_left_the_dedup_window()
    {
        var shard = Shard(Sgd() with { DedupWindow = 2 });
        shard.Push(Item, [1L], Grad(1), batchId: 1);
        shard.Push(Item, [1L], Grad(1), batchId: 2);
        Assert.Equal(PushStatus.DuplicateIgnored, shard.Push(Item, [1L], Grad(1), batchId: 1).Status);
        shard.Push(Item, [1L], Grad(1), batchId: 3);
        Assert.Equal(PushStatus.Applied, shard.Push(Item, [1L], Grad(1), batchId: 1).Status);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Push_is_rejected_whole_and_changes_nothing_when_a_gradient_is_not_finite(float bad)
    {
        var settings = new EmbeddingSettings { Optimizer = SparseOptimizerSettings.Parse("adam") };
        var shard = Shard(settings);
        shard.Push(Item, [1L, 2L], Grad(0.5f, 2), batchId: 0);
        long[] ids = [1L, 2L, 3L];
        var before = Pull(shard, ids);
        var grads = Grad(0.5f, 3);
        grads[2 * Dim + 5] = bad;

        var result = shard.Push(Item, ids, grads, batchId: 1);

        Assert.Equal(PushStatus.RejectedNonFinite, result.Status);
        Assert.Equal(before, Pull(shard, ids));
        Assert.Null(shard.ReadRow(Item, 3));
        Assert.Equal(1, shard.ReadRow(Item, 1)!.Updates);
        Assert.Equal(1, shard.Stats().NonFinitePushesRejected);
        Assert.Equal(1, shard.Stats().PushesApplied);
        // Not remembered as applied: a corrected retry of the batch goes through.
        Assert.Equal(PushStatus.Applied, shard.Push(Item, ids, Grad(0.5f, 3), batchId: 1).Status);
    }

    [Fact]
    public void Mba_adds_lambda_over_n_times_w_to_rows_in_the_batch_only_when_lambda_is_set()
    {
        const float lr = 0.5f, lambda = 0.2f;
        var settings = Sgd(lr) with { MbaLambda = lambda, Seed = 3 };
        var shard = Shard(settings);
        shard.Push(Item, [9L], Grad(0.1f), batchId: 0); // a row that later batches do not touch
        var untouched = Pull(shard, 9);

        // Batch 1: id 1 occurs 3 times, id 2 once (n = 3, 1). Batch 2: id 1 twice more (n = 5).
        shard.Push(Item, [1L, 2L], Grad(0.25f, 2), batchId: 1, counts: [3, 1]);
        shard.Push(Item, [1L], Grad(-0.125f), batchId: 2, counts: [2]);

        double[] Expected(long id, params (float G, int N)[] pushes)
        {
            var w = Init(id, settings).Select(x => (double)x).ToArray();
            foreach (var (g, n) in pushes)
                for (var d = 0; d < Dim; d++) w[d] -= lr * (g + lambda / n * w[d]);
            return w;
        }

        var actual = Pull(shard, 1, 2);
        var e1 = Expected(1, (0.25f, 3), (-0.125f, 5));
        var e2 = Expected(2, (0.25f, 1));
        for (var d = 0; d < Dim; d++)
        {
            Assert.Equal(e1[d], actual[d], 1e-7);
            Assert.Equal(e2[d], actual[Dim + d], 1e-7);
        }
        Assert.Equal(untouched, Pull(shard, 9));
        Assert.Equal(5, shard.ReadRow(Item, 1)!.Count);
        Assert.Equal(1, shard.ReadRow(Item, 2)!.Count);

        // lambda = 0 (the default): plain SGD.
        var plain = Shard(Sgd(lr) with { Seed = 3 });
        plain.Push(Item, [2L], Grad(0.25f), batchId: 1, counts: [1]);
        var p = Pull(plain, 2);
        var init2 = Init(2, settings);
        for (var d = 0; d < Dim; d++) Assert.Equal(init2[d] - lr * 0.25f, p[d]);
    }

    [Fact]
    public void Admission_creates_no_row_and_drops_updates_until_an_id_reaches_min_count()
    {
        var settings = Sgd() with { MinCount = 3, AdmissionSketchWidth = 1024 };
        var shard = Shard(settings);
        var init = Init(5, settings);

        Assert.Equal(1, shard.Push(Item, [5L], Grad(1), batchId: 0).NotAdmitted);
        Assert.Equal(1, shard.Push(Item, [5L], Grad(1), batchId: 1).NotAdmitted);
        Assert.Null(shard.ReadRow(Item, 5));
        Assert.Equal(init, Pull(shard, 5));

        var third = shard.Push(Item, [5L], Grad(1), batchId: 2);
        Assert.Equal((1, 1, 0), (third.RowsUpdated, third.RowsCreated, third.NotAdmitted));
        var row = shard.ReadRow(Item, 5)!;
        Assert.Equal(3, row.Count);
        Assert.Equal(init.Select(x => x - 0.5f).ToArray(), row.Weights); // only the admitting push applied

        // Occurrence counts count: one push carrying 3 occurrences admits at once.
        Assert.Equal(1, shard.Push(Item, [6L], Grad(1), batchId: 3, counts: [3]).RowsCreated);
        var stats = shard.Stats().Tables.Single(t => t.Table == Item);
        Assert.Equal((2L, 2L, 2L), (stats.Rows, stats.Admitted, stats.NotAdmitted));
    }

    [Fact]
    public void Ttl_evicts_rows_not_pushed_for_more_than_ttl_steps_and_pull_returns_init_again()
    {
        var settings = Sgd() with { TtlSteps = 2 };
        var shard = Shard(settings);
        shard.Push(Item, [1L], Grad(1), batchId: 0);      // step 1
        shard.Push(Item, [2L], Grad(1), batchId: 1);      // step 2
        shard.Push(Item, [3L, 1L], Grad(1, 2), batchId: 2); // step 3: 1 seen again
        shard.Push(Item, [4L], Grad(1), batchId: 3);      // step 4: 2 unseen for 2 steps, kept
        Assert.NotNull(shard.ReadRow(Item, 2));
        shard.Push(Item, [4L], Grad(1), batchId: 4);      // step 5: 2 unseen for 3 steps, evicted
        Assert.Null(shard.ReadRow(Item, 2));
        Assert.Equal(Init(2, settings), Pull(shard, 2));
        Assert.NotNull(shard.ReadRow(Item, 1));
        shard.Push(Item, [4L], Grad(1), batchId: 5, step: 9); // a carried step number jumps the clock
        Assert.Equal([4L], shard.RowIds(Item));
        Assert.Equal(3, shard.Stats().Tables.Single(t => t.Table == Item).EvictedTtl);
    }

    [Fact]
    public void Cap_evicts_the_least_frequent_rows_and_reuses_their_slab_rows_when_a_table_passes_it()
    {
        var settings = Sgd() with { TableRowCaps = new Dictionary<string, int> { [Item] = 40 } };
        var shard = Shard(settings);
        // ids 0..39 occur id+1 times each; id 0..4 are the five least frequent.
        var ids = Enumerable.Range(0, 40).Select(i => (long)i).ToArray();
        shard.Push(Item, ids, Grad(0.1f, 40), batchId: 0, counts: ids.Select(i => (int)i + 1).ToArray());
        Assert.Equal(40, shard.Stats().Rows);
        var bytes = shard.Stats().Bytes;

        // Id 40 (count 1) passes the cap: evict down to cap - cap/20 = 38 rows, i.e. 3 rows. Counts
        // 1 (ids 0 and 40) go first, then one of count 2 (id 1).
        shard.Push(Item, [40L], Grad(0.1f), batchId: 1, counts: [1]);
        Assert.Equal(Enumerable.Range(2, 38).Select(i => (long)i), shard.RowIds(Item).Order());
        Assert.Equal(3, shard.Stats().Tables.Single(t => t.Table == Item).EvictedCap);

        // Admitting again reuses freed slab rows: no new memory.
        shard.Push(Item, [100L, 101L], Grad(0.1f, 2), batchId: 2, counts: [50, 50]);
        Assert.Equal(40, shard.Stats().Rows);
        Assert.Equal(bytes, shard.Stats().Bytes);
    }

    [Fact]
    public void Cap_evicts_the_least_recently_pushed_first_when_counts_are_equal()
    {
        var shard = Shard(Sgd() with { RowCap = 4 });
        shard.Push(Item, [1L, 2L], Grad(0.1f, 2), batchId: 0); // step 1
        shard.Push(Item, [3L, 4L], Grad(0.1f, 2), batchId: 1); // step 2
        shard.Push(Item, [1L], Grad(0.1f), batchId: 2, counts: [1]); // 1 now has count 2
        shard.Push(Item, [5L], Grad(0.1f), batchId: 3); // 5 rows > cap 4: evict one of count 1, oldest: 2
        Assert.Equal([1L, 3L, 4L, 5L], shard.RowIds(Item).Order());
    }

    [Fact]
    public void Settings_validation_names_the_field_and_value_when_out_of_range()
    {
        Assert.Contains("MinCount is set to 0, must be >= 1", Assert.Throws<ArgumentException>(() => new EmbeddingSettings { MinCount = 0 }.Validate()).Message);
        Assert.Contains("AdmissionSketchWidth is set to 1000, must be a power of two",
            Assert.Throws<ArgumentException>(() => Shard(new EmbeddingSettings { AdmissionSketchWidth = 1000 })).Message);
        Assert.Contains("DedupWindow is set to 0", Assert.Throws<ArgumentException>(() => new EmbeddingSettings { DedupWindow = 0 }.Validate()).Message);
    }
}
