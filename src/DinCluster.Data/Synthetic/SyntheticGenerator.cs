using System.Diagnostics;
using DinCluster.Core.Features;

namespace DinCluster.Data;

/// <summary>
/// Generates a behaviour log with known click probabilities (<see cref="SyntheticWorld"/>):
/// DIR/train/part-*.parquet, DIR/test/part-*.parquet and DIR/dataset.json. Samples are made in
/// one timeline (a random active user sees an item, clicks with p_true, the click joins the
/// history); the first samples are train, the last <see cref="SyntheticSettings.TestFraction"/>
/// test. Streams to disk; memory holds the world, the users' histories and the test scores.
/// Deterministic: the same settings give the same bytes.
/// </summary>
public static class SyntheticGenerator
{
    public const string Name = "dincluster-synthetic-v1";
    public const string PTrueColumn = "p_true";
    private const double OrganicBehaviour = 0.2;      // chance of a non-impression behaviour after each impression
    private const int MaxInitialHistory = 25;
    private const long FirstTimestamp = 1_600_000_000;

    /// <summary>The default schema (maxlen = HistoryMax) plus the p_true column (dense, 1 float) the files carry.
    /// Train with <see cref="FeatureSchema.Default"/>: readers ignore the columns a schema does not declare.</summary>
    public static FeatureSchema FileSchema(SyntheticSettings settings)
    {
        var d = FeatureSchema.Default(maxLen: settings.HistoryMax);
        return new FeatureSchema(
            [.. d.Sparse, .. d.VarLen, .. d.Dense, new DenseFeat(PTrueColumn, 1)],
            d.HistoryPairs);
    }

    public static SyntheticDataset Generate(string dir, SyntheticSettings settings, TextWriter? log = null)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        var rng = new Xoshiro256(settings.Seed);
        var world = new SyntheticWorld(settings, rng);
        var schema = FileSchema(settings);

        var histories = new List<int>[settings.Users];
        for (var u = 0; u < settings.Users; u++)
        {
            var h = histories[u] = new List<int>(settings.HistoryMax + 1);
            var length = rng.Next(MaxInitialHistory + 1);
            for (var t = 0; t < length; t++) Append(h, world.NextBehaviour(u, rng), settings.HistoryMax);
        }

        var testScores = new float[settings.TestSamples];
        var testLabels = new float[settings.TestSamples];
        long historyIds = 0;
        SyntheticSplit train, test;
        using (var trainParts = new PartWriter(dir, "train", schema, settings))
        using (var testParts = new PartWriter(dir, "test", schema, settings))
        {
            for (var step = 0; step < settings.Samples; step++)
            {
                var user = world.NextActiveUser(rng);
                var history = histories[user];
                var item = world.NextImpression(user, rng);
                var histItems = new long[history.Count];
                var histCategories = new long[history.Count];
                for (var t = 0; t < history.Count; t++) histCategories[t] = world.CategoryOf((int)(histItems[t] = history[t]));
                // stored as float in the files; the AUC is computed on what the files hold
                var p = (float)world.ClickProbability(user, item, histCategories);
                var label = rng.Chance(p) ? 1 : 0;

                var sample = new Sample(user, item, world.CategoryOf(item), histItems, histCategories, label, FirstTimestamp + step)
                {
                    Dense = new Dictionary<string, float[]> { [PTrueColumn] = [p] },
                };
                historyIds += history.Count;

                var testIndex = step - settings.TrainSamples;
                if (testIndex < 0) trainParts.Write(sample);
                else
                {
                    testParts.Write(sample);
                    testScores[testIndex] = p;
                    testLabels[testIndex] = label;
                }

                if (label == 1) Append(history, item, settings.HistoryMax);
                if (rng.Chance(OrganicBehaviour)) Append(history, world.NextBehaviour(user, rng), settings.HistoryMax);
            }
            train = trainParts.Finish();
            test = testParts.Finish();
        }

        var dataset = new SyntheticDataset(
            Name, settings, train, test,
            MeanHistoryLength: (double)historyIds / settings.Samples,
            BayesTestAuc: Core.Metrics.Auc.Compute(testScores, testLabels),
            BayesTestLogLoss: Core.Metrics.LogLoss.Compute(testScores, testLabels),
            PTrueColumn,
            ClickModel: $"p = sigmoid({SyntheticWorld.Bias} + {SyntheticWorld.RelevanceWeight} R + {SyntheticWorld.PopularityWeight} b_item"
                + $" + {SyntheticWorld.AffinityWeight} a_user(category)); R = 1 - exp(-sum_t s_t / {SyntheticWorld.Saturation}),"
                + $" s_t = 1 (same category as the target), {SyntheticWorld.SimilarCategory} (same department), 0 otherwise");
        dataset.Save(dir);
        log?.WriteLine($"generated {settings.Samples:N0} samples ({train.Samples:N0} train, {test.Samples:N0} test) in {clock.Elapsed.TotalSeconds:F1} s: " +
            $"CTR {train.PositiveRate:F3}/{test.PositiveRate:F3}, mean history {dataset.MeanHistoryLength:F1}, Bayes test AUC {dataset.BayesTestAuc:F4}");
        return dataset;
    }

    private static void Append(List<int> history, int item, int max)
    {
        history.Add(item);
        if (history.Count > max) history.RemoveAt(0);   // oldest first: drop the oldest
    }

    /// <summary>DIR/split/part-00000.parquet, part-00001.parquet, ... of RowsPerFile rows each.</summary>
    private sealed class PartWriter(string dir, string split, FeatureSchema schema, SyntheticSettings settings) : IDisposable
    {
        private readonly List<string> _files = [];
        private BehaviourLogWriter? _writer;
        private long _samples;
        private long _positives;

        public void Write(Sample sample)
        {
            if (_writer is null || _samples % settings.RowsPerFile == 0)
            {
                _writer?.Dispose();
                var relative = Path.Combine(split, $"part-{_files.Count:D5}.parquet");
                Directory.CreateDirectory(Path.Combine(dir, split));
                _writer = BehaviourLogWriter.Create(Path.Combine(dir, relative), schema, settings.RowGroupSize, withTimestamp: true);
                _files.Add(relative.Replace('\\', '/'));
            }
            _writer.Write(sample);
            _samples++;
            _positives += sample.Label;
        }

        public SyntheticSplit Finish()
        {
            _writer?.Dispose();
            _writer = null;
            return new SyntheticSplit(_samples, _positives, _files.ToArray());
        }

        public void Dispose() => _writer?.Dispose();
    }
}
