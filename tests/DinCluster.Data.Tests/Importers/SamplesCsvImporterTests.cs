using DinCluster.Data.Importers;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Importers;

public sealed class SamplesCsvImporterTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Out => _dir.File("out");

    [Fact]
    public void SamplesCsv_sends_each_users_latest_sample_to_test_when_the_file_has_timestamps()
    {
        var input = Write(
            "label,user_id,item_id,category_id,hist_item_id,hist_category_id,timestamp,comment",   // any column order, extra columns ignored
            "1,7,1003,12,1001 1002,11 12,300,x",
            "0,7,1004,12,,,100,empty histories",
            "1,7,1005,13,1001,11,200,y",
            "1,8,2001,20,-5 6,21 22,50,negative ids");

        var report = SamplesCsvImporter.Run(input, ImportedData.Options(Out), new StringWriter());

        Assert.Equal(
        [
            "u=7 i=1004 c=12 h=[] hc=[] y=0 t=100",
            "u=7 i=1005 c=13 h=[1001] hc=[11] y=1 t=200",
        ], ImportedData.Lines(Out, "train"));
        Assert.Equal(
        [
            "u=7 i=1003 c=12 h=[1001 1002] hc=[11 12] y=1 t=300",
            "u=8 i=2001 c=20 h=[-5 6] hc=[21 22] y=1 t=50",
        ], ImportedData.Lines(Out, "test"));
        // items: targets and histories 1001-1005, 2001, -5, 6; categories 11, 12, 13, 20, 21, 22
        Assert.Equal((4L, 2L, 8L, 6L), (report.RowsRead, report.Users, report.Items, report.Categories));
    }

    [Fact]
    public void SamplesCsv_orders_by_line_and_writes_null_timestamps_when_the_file_has_no_timestamp()
    {
        var input = Write(
            "user_id,item_id,category_id,hist_item_id,hist_category_id,label",
            "7,1,1,,,1",
            "7,2,1,1,1,0",
            "7,3,1,1,1,1");

        SamplesCsvImporter.Run(input, ImportedData.Options(Out, SplitSpec.Parse("last-per-user:2")), new StringWriter());

        Assert.Equal(["u=7 i=1 c=1 h=[] hc=[] y=1 t=null"], ImportedData.Lines(Out, "train"));
        Assert.Equal(["u=7 i=2 c=1 h=[1] hc=[1] y=0 t=null", "u=7 i=3 c=1 h=[1] hc=[1] y=1 t=null"], ImportedData.Lines(Out, "test"));
        var e = Assert.Throws<ArgumentException>(() => SamplesCsvImporter.Run(input, ImportedData.Options(_dir.File("t"), SplitSpec.Parse("time:5")), new StringWriter()));
        Assert.Contains("needs a timestamp column", e.Message);
    }

    [Fact]
    public void SamplesCsv_keeps_histories_as_given_unless_max_history_cuts_them()
    {
        var input = Write(
            "user_id,item_id,category_id,hist_item_id,hist_category_id,label",
            "1,9,9,1 2 3 4 5 6 7 8,1 2 3 4 5 6 7 8,1");

        SamplesCsvImporter.Run(input, ImportedData.Options(Out), new StringWriter());
        Assert.Equal("u=1 i=9 c=9 h=[1 2 3 4 5 6 7 8] hc=[1 2 3 4 5 6 7 8] y=1 t=null", Assert.Single(ImportedData.Lines(Out, "test")));

        var report = SamplesCsvImporter.Run(input, ImportedData.Options(_dir.File("cut")) with { MaxHistory = 3 }, new StringWriter());
        Assert.Equal("u=1 i=9 c=9 h=[6 7 8] hc=[6 7 8] y=1 t=null", Assert.Single(ImportedData.Lines(_dir.File("cut"), "test")));
        Assert.Equal(1, report.TruncatedHistories);
    }

    [Theory]
    [InlineData("1,2,3,4 5,6,1", "line 3: hist_item_id has 2 ids, hist_category_id has 1; paired histories must have equal lengths", "history_length_mismatch")]
    [InlineData("1,2,3,4 x,6 7,1", "line 3: hist_item_id id 1 is 'x', not a whole number", "not_a_number")]
    [InlineData("1,2,3,,,-1", "line 3: label is -1, must be 0 or 1", "invalid_label")]
    [InlineData("1,2,3,,", "line 3: has 5 cells, the header has 6", "wrong_column_count")]
    public void SamplesCsv_names_file_and_line_when_fail_and_counts_the_reason_when_skip(string bad, string message, string reason)
    {
        var input = Write("user_id,item_id,category_id,hist_item_id,hist_category_id,label", "1,10,1,,,1", bad, "2,11,1,10,1,1");

        var e = Assert.Throws<BadLineException>(() => SamplesCsvImporter.Run(input, ImportedData.Options(Out), new StringWriter()));
        output.WriteLine(e.Message);
        Assert.Equal($"{input}: {message}", e.Message);

        var report = SamplesCsvImporter.Run(input, ImportedData.Options(Out, policy: BadInputPolicy.Skip), new StringWriter());
        Assert.Equal(new Dictionary<string, long> { [reason] = 1 }, report.SkippedByReason);
        Assert.Equal(2, report.Train.Samples + report.Test.Samples);
    }

    private string Write(params string[] lines)
    {
        var path = _dir.File("samples.csv");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }
}
