using System.Globalization;
using DinCluster.Cli.Commands;
using DinCluster.Cli.Tests.Support;
using DinCluster.Core.Features;
using DinCluster.Data;
using Parquet;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Serving;

[Collection(TorchCollection.Name)]
public sealed class PredictCommandTests(TrainedModel model, ITestOutputHelper output) : IClassFixture<TrainedModel>, IDisposable
{
    private readonly TempDir _out = new();

    public void Dispose() => _out.Dispose();

    [Fact]
    public void Predict_writes_one_row_per_sample_with_the_scores_evaluate_writes()
    {
        output.WriteLine($"model seed {TrainedModel.Seed}");
        var predictions = _out.File("pred.csv");
        var evaluated = _out.File("eval.csv");

        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", model.Data, "--out", predictions]));
        Assert.Equal(0, Program.Main(["evaluate", "--model", model.Run, "--data", model.Data, "--predictions", evaluated]));

        var rows = TrainedModel.ReadPredictions(predictions);
        var expected = File.ReadLines(evaluated).Skip(1).Select(l => l.Split(',')).ToList();   // user_id,item_id,label,score
        Assert.Equal(model.TestSamples.Count, rows.Count);
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(model.TestSamples[i].UserId, rows[i].User);
            Assert.Equal(model.TestSamples[i].ItemId, rows[i].Item);
            Assert.Equal(model.TestSamples[i].Label, rows[i].Label);
            Assert.Equal(float.Parse(expected[i][3], CultureInfo.InvariantCulture), rows[i].Score);
        }
        Assert.All(rows, r => Assert.InRange(r.Score, 0f, 1f));
    }

    [Fact]
    public async Task Predict_writes_parquet_with_the_scores_of_the_csv_when_the_folder_holds_parquet_files()
    {
        var csv = _out.File("pred.csv");
        var parquet = _out.File("pred.parquet");
        var folder = Path.GetDirectoryName(model.TestFile)!;   // a folder of *.parquet, not a data set

        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", folder, "--out", csv, "--batch-size", "64"]));
        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", folder, "--out", parquet, "--batch-size", "64"]));

        var rows = TrainedModel.ReadPredictions(csv);
        await using var reader = await ParquetReader.CreateAsync(parquet);
        var fields = reader.Schema.DataFields;
        Assert.Equal(["user_id", "item_id", "score", "label"], fields.Select(f => f.Name));
        var users = new List<long>();
        var scores = new List<float>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.RowGroups[g];
            var u = new long[group.RowCount];
            var s = new float[group.RowCount];
            await group.ReadAsync<long>(fields[0], u.AsMemory());
            await group.ReadAsync<float>(fields[2], s.AsMemory());
            users.AddRange(u);
            scores.AddRange(s);
        }
        Assert.Equal(3, reader.RowGroupCount);   // one per input row group
        Assert.Equal(rows.Select(r => r.User), users);
        Assert.Equal(rows.Select(r => r.Score), scores);
    }

    [Fact]
    public void Predict_scores_files_without_a_label_column_and_writes_no_label()
    {
        // the same samples, with the label column named "clicked": to the model's schema there is no label
        var s = model.Schema;
        var unlabelled = new FeatureSchema([.. s.Sparse, .. s.VarLen, .. s.Dense], s.HistoryPairs, label: "clicked");
        var path = _out.File("unlabelled.parquet");
        BehaviourLogWriter.WriteFile(path, unlabelled, model.TestSamples, rowGroupSize: 100);
        var labelled = _out.File("labelled.csv");
        var scored = _out.File("unlabelled.csv");

        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", model.TestFile, "--out", labelled]));
        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", path, "--out", scored]));

        var lines = File.ReadAllLines(scored);
        Assert.Equal("user_id,item_id,score", lines[0]);
        Assert.Equal(File.ReadLines(labelled).Skip(1).Select(l => string.Join(',', l.Split(',')[..3])), lines.Skip(1));
    }

    [Fact]
    public void Predict_names_file_row_group_and_row_when_a_row_is_bad()
    {
        var bad = TrainData.Random(150, seed: 72, model.Schema);
        bad[120] = bad[120] with { HistItems = [1, 2, 3], HistCategories = [1] };
        var path = TrainData.Write(_out.File("bad"), "test", "part-0.parquet", model.Schema, bad, rowGroupSize: 100);
        var predictions = _out.File("pred.csv");

        var e = Assert.Throws<BadInputException>(() =>
            PredictCommand.Run(new CliArgs(["--model", model.Run, "--data", path, "--out", predictions])));

        output.WriteLine(e.Message);
        Assert.StartsWith($"{path}: row group 1, row 20: hist_item_id has 3 ids, hist_category_id has 1", e.Message);
        Assert.False(File.Exists(predictions));
        Assert.Empty(Directory.GetFiles(_out.Path));   // no half-written output left behind
    }

    [Fact]
    public void Predict_refuses_an_output_that_is_neither_csv_nor_parquet()
    {
        var e = Assert.Throws<CliException>(() =>
            PredictCommand.Run(new CliArgs(["--model", model.Run, "--data", model.Data, "--out", _out.File("pred.txt")])));
        Assert.Contains("must end in .csv or .parquet", e.Message);
    }
}
