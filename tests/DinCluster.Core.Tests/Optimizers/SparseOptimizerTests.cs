using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Optimizers;

public sealed class SparseOptimizerTests(ITestOutputHelper output)
{
    private const string Table = "item";
    private const int Dim = 12; // not a multiple of the vector width: the scalar tail runs too

    [Fact]
    public void Sgd_moves_a_row_by_exactly_k_times_g_when_pushed_k_identical_gradients_at_lr_1()
    {
        var shard = new EmbeddingShard([(Table, Dim)], new EmbeddingSettings
        {
            InitScale = 0,
            Optimizer = new SparseOptimizerSettings(SparseOptimizerKind.Sgd, 1f),
        });
        var g = Enumerable.Range(0, Dim).Select(d => (d - 5) * 0.375f).ToArray(); // exact binary fractions
        const int k = 9;
        for (var b = 0; b < k; b++) Assert.Equal(PushStatus.Applied, shard.Push(Table, [7L], g, batchId: b).Status);
        var row = new float[Dim];
        shard.Pull(Table, [7L], row);
        for (var d = 0; d < Dim; d++) Assert.Equal(-k * g[d], row[d]);
    }

    [Theory]
    [InlineData("adagrad", 11)]
    [InlineData("adagrad:lr=0.3,initial_accumulator=0.01", 12)]
    [InlineData("adam:lr=0.01", 13)]
    [InlineData("adam:lr=0.05,beta1=0.5,beta2=0.9", 14)]
    [InlineData("ftrl:alpha=0.1,beta=1", 15)]
    [InlineData("ftrl:alpha=0.5,beta=0.5,l1=0.02,l2=0.1", 16)]
    [InlineData("sgd:lr=0.2", 17)]
    public void Optimizer_matches_a_dense_double_reference_on_touched_rows_and_leaves_others_bit_identical(string optimizer, int seed)
    {
        output.WriteLine($"optimizer {optimizer}, seed {seed}");
        var settings = new EmbeddingSettings { Seed = seed, Optimizer = SparseOptimizerSettings.Parse(optimizer) };
        var shard = new EmbeddingShard([(Table, Dim)], settings);
        var reference = new DenseReference(settings.Optimizer, Table, Dim, settings.Seed, settings.InitScale);
        var rng = new Random(seed);
        const int vocabulary = 60;
        var all = Enumerable.Range(0, vocabulary).Select(i => (long)i * 1_000_003).ToArray();
        var before = new float[vocabulary * Dim];
        var after = new float[vocabulary * Dim];
        var maxError = 0.0;
        for (var step = 0; step < 40; step++)
        {
            var ids = all.Where(_ => rng.NextDouble() < 0.3).ToArray();
            var grads = ids.SelectMany(_ => Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.4f)).ToArray();
            shard.Pull(Table, all, before);
            shard.Push(Table, ids, grads, batchId: step);
            reference.Push(ids, grads);
            shard.Pull(Table, all, after);
            for (var i = 0; i < vocabulary; i++)
            {
                var touched = ids.Contains(all[i]);
                for (var d = 0; d < Dim; d++)
                {
                    var actual = after[i * Dim + d];
                    if (!touched)
                    {
                        Assert.Equal(BitConverter.SingleToInt32Bits(before[i * Dim + d]), BitConverter.SingleToInt32Bits(actual));
                        continue;
                    }
                    var error = Math.Abs(actual - reference.Weight(all[i], d));
                    maxError = Math.Max(maxError, error);
                    Assert.True(error <= 1e-6, $"step {step} id {all[i]} [{d}]: {actual} vs reference {reference.Weight(all[i], d)}");
                }
                if (touched)
                {
                    var state = shard.ReadRow(Table, all[i])!;
                    for (var s = 0; s < state.Slots.Length; s++)
                        for (var d = 0; d < Dim; d++)
                            Assert.True(Math.Abs(state.Slots[s][d] - reference.Slot(all[i], s, d)) <= 1e-6 * Math.Max(1, Math.Abs(reference.Slot(all[i], s, d))),
                                $"step {step} id {all[i]} slot {s} [{d}]: {state.Slots[s][d]} vs {reference.Slot(all[i], s, d)}");
                }
            }
        }
        output.WriteLine($"max |w - reference| = {maxError:E2}");
    }

    /// <summary>The update rules written out plainly, in double, over a dictionary of rows.</summary>
    private sealed class DenseReference(SparseOptimizerSettings o, string table, int dim, long seed, float scale)
    {
        private readonly Dictionary<long, (double[] W, double[] A, double[] B, int T)> _rows = [];

        public double Weight(long id, int d) => _rows[id].W[d];
        public double Slot(long id, int s, int d) => s == 0 ? _rows[id].A[d] : _rows[id].B[d];

        public void Push(long[] ids, float[] grads)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if (!_rows.TryGetValue(ids[i], out var r))
                {
                    var init = new float[dim];
                    EmbeddingInit.Fill(table, ids[i], seed, scale, init);
                    var a0 = o.Kind == SparseOptimizerKind.Adagrad ? o.InitialAccumulator : 0.0;
                    r = (init.Select(x => (double)x).ToArray(), Enumerable.Repeat(a0, dim).ToArray(), new double[dim], 0);
                }
                r.T++;
                for (var d = 0; d < dim; d++)
                {
                    double g = grads[i * dim + d];
                    switch (o.Kind)
                    {
                        case SparseOptimizerKind.Sgd:
                            r.W[d] -= o.LearningRate * g;
                            break;
                        case SparseOptimizerKind.Adagrad:
                            r.A[d] += g * g;
                            r.W[d] -= o.LearningRate * g / (Math.Sqrt(r.A[d]) + o.Epsilon);
                            break;
                        case SparseOptimizerKind.Adam:
                            r.A[d] = o.Beta1 * r.A[d] + (1 - o.Beta1) * g;
                            r.B[d] = o.Beta2 * r.B[d] + (1 - o.Beta2) * g * g;
                            var mHat = r.A[d] / (1 - Math.Pow(o.Beta1, r.T));
                            var vHat = r.B[d] / (1 - Math.Pow(o.Beta2, r.T));
                            r.W[d] -= o.LearningRate * mHat / (Math.Sqrt(vHat) + o.Epsilon);
                            break;
                        case SparseOptimizerKind.Ftrl:
                            var n = r.B[d] + g * g;
                            var sigma = (Math.Sqrt(n) - Math.Sqrt(r.B[d])) / o.LearningRate;
                            r.A[d] += g - sigma * r.W[d];
                            r.B[d] = n;
                            var z = r.A[d];
                            r.W[d] = Math.Abs(z) <= o.L1 ? 0 : -(z - Math.Sign(z) * o.L1) / ((o.FtrlBeta + Math.Sqrt(n)) / o.LearningRate + o.L2);
                            break;
                    }
                }
                _rows[ids[i]] = r;
            }
        }
    }

    [Fact]
    public void Parse_reads_kind_and_options_when_given_kind_colon_key_values()
    {
        var adagrad = SparseOptimizerSettings.Parse("adagrad");
        Assert.Equal(SparseOptimizerSettings.Default(SparseOptimizerKind.Adagrad), adagrad);
        Assert.Equal(0.1f, adagrad.InitialAccumulator);

        var adam = SparseOptimizerSettings.Parse(" Adam : lr=0.01, beta1=0.8 ,beta2=0.99,epsilon=1e-6");
        Assert.Equal(new SparseOptimizerSettings(SparseOptimizerKind.Adam, 0.01f) { Beta1 = 0.8f, Beta2 = 0.99f, Epsilon = 1e-6f }, adam);

        var ftrl = SparseOptimizerSettings.Parse("ftrl:alpha=0.1,beta=2,l1=0.5,l2=0.25");
        Assert.Equal(new SparseOptimizerSettings(SparseOptimizerKind.Ftrl, 0.1f) { FtrlBeta = 2, L1 = 0.5f, L2 = 0.25f }, ftrl);

        Assert.Equal(SparseOptimizerKind.Sgd, SparseOptimizerSettings.Parse("sgd").Kind);
        Assert.IsType<FtrlOptimizer>(ftrl.Create());
        Assert.Equal(2, adam.Create().SlotCount);
    }

    [Theory]
    [InlineData("rmsprop", "must be one of sgd, adagrad, adam, ftrl")]
    [InlineData("adam:lr", "is not key=value")]
    [InlineData("adam:lr=fast", "must be a number")]
    [InlineData("adam:momentum=0.9", "unknown")]
    [InlineData("sgd:lr=-1", "learning rate is set to -1, must be > 0")]
    [InlineData("adam:beta2=1", "beta2 is set to 1, must be in [0, 1)")]
    public void Parse_fails_with_a_message_naming_the_problem_when_text_is_invalid(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SparseOptimizerSettings.Parse(text));
        Assert.Contains(expected, e.Message);
    }
}
