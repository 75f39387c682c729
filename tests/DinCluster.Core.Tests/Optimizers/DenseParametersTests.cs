using DinCluster.Core.Optimizers;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Optimizers;

public sealed class DenseParametersTests(ITestOutputHelper output)
{
    [Fact]
    public void Apply_matches_textbook_adam_in_double_when_given_random_gradients()
    {
        const int seed = 21;
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        var initial = Enumerable.Range(0, 37).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var s = new AdamSettings(LearningRate: 0.01f);
        var p = new DenseParameters(initial, s);
        var w = initial.Select(x => (double)x).ToArray();
        var m = new double[w.Length];
        var v = new double[w.Length];
        for (var t = 1; t <= 50; t++)
        {
            var g = w.Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            Assert.True(p.Apply(g));
            for (var i = 0; i < w.Length; i++)
            {
                m[i] = s.Beta1 * m[i] + (1 - s.Beta1) * g[i];
                v[i] = s.Beta2 * v[i] + (1 - s.Beta2) * g[i] * (double)g[i];
                w[i] -= s.LearningRate * (m[i] / (1 - Math.Pow(s.Beta1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(s.Beta2, t))) + s.Epsilon);
            }
        }
        Assert.Equal(50, p.Step);
        for (var i = 0; i < w.Length; i++) Assert.True(Math.Abs(p.Values[i] - w[i]) <= 1e-6, $"[{i}] {p.Values[i]} vs {w[i]}");
        Assert.NotSame(initial, p.Values);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Apply_refuses_the_whole_gradient_and_changes_nothing_when_one_value_is_not_finite(float bad)
    {
        var p = new DenseParameters([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f], new AdamSettings());
        p.Apply([.1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f]);
        var before = p.Export();
        Assert.False(p.Apply([.1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, bad]));
        var after = p.Export();
        Assert.Equal(before.Step, after.Step);
        Assert.Equal(before.Values, after.Values);
        Assert.Equal(before.M, after.M);
        Assert.Equal(before.V, after.V);
    }

    [Fact]
    public void Import_resumes_bit_identically_when_given_an_exported_state()
    {
        var rng = new Random(5);
        output.WriteLine("seed 5");
        var grads = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 16).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        var s = new AdamSettings(0.05f);
        var straight = new DenseParameters(new float[16], s);
        foreach (var g in grads) straight.Apply(g);

        var first = new DenseParameters(new float[16], s);
        foreach (var g in grads[..7]) first.Apply(g);
        var resumed = DenseParameters.Import(first.Export(), s);
        foreach (var g in grads[7..]) resumed.Apply(g);

        Assert.Equal(straight.Export().Values, resumed.Export().Values);
        Assert.Equal(straight.Step, resumed.Step);
    }
}
