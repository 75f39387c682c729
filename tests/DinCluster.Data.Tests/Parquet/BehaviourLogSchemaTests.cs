using DinCluster.Core.Features;
using Parquet.Schema;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Parquet;

public sealed class BehaviourLogSchemaTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default();

    [Fact]
    public void ToParquetSchema_lists_the_design_columns_in_order_when_built_from_the_default_schema()
    {
        var parquet = new BehaviourLogSchema(Schema).ToParquetSchema(withTimestamp: true);

        Assert.Equal(["user_id", "item_id", "category_id", "hist_item_id", "hist_category_id", "label", "timestamp"], parquet.Fields.Select(f => f.Name));
        Assert.Equal(["int64", "int64", "int64", "list<int64>", "list<int64>", "int32", "int64"], parquet.Fields.Select(BehaviourLogSchema.Describe));
    }

    [Fact]
    public void Check_names_the_column_both_types_and_the_file_when_a_column_is_mistyped()
    {
        var file = new ParquetSchema(
            new DataField<long>("user_id"), new DataField<long>("item_id"), new DataField<long>("category_id"),
            new ListField("hist_item_id", new DataField<long>("element")), new ListField("hist_category_id", new DataField<int>("element")),
            new DataField<int>("label"));

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogSchema(Schema).Check(file, "data/train/part-0.parquet"));

        output.WriteLine(e.Message);
        Assert.Equal("data/train/part-0.parquet: column 'hist_category_id': expected list<int64>, found list<int32>", e.Message);
        Assert.Equal(BadInputReason.SchemaMismatch, e.Reason);
        Assert.Null(e.RowGroup);
    }

    [Fact]
    public void Check_refuses_a_scalar_history_when_a_list_is_expected()
    {
        var file = new ParquetSchema(
            new DataField<long>("user_id"), new DataField<long>("item_id"), new DataField<long>("category_id"),
            new DataField<long>("hist_item_id"), new ListField("hist_category_id", new DataField<long>("element")),
            new DataField<int>("label"));

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogSchema(Schema).Check(file, "f.parquet"));

        Assert.Equal("f.parquet: column 'hist_item_id': expected list<int64>, found int64", e.Message);
    }

    [Fact]
    public void Check_names_the_missing_column_and_its_type_when_a_column_is_absent()
    {
        var file = new ParquetSchema(
            new DataField<long>("user_id"), new DataField<long>("item_id"), new DataField<long>("category_id"),
            new ListField("hist_item_id", new DataField<long>("element")), new ListField("hist_category_id", new DataField<long>("element")));

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogSchema(Schema).Check(file, "f.parquet"));

        Assert.Equal("f.parquet: column 'label' is missing (expected int32)", e.Message);
    }

    [Fact]
    public void Check_accepts_nullable_columns_extra_columns_and_any_column_order()
    {
        var file = new ParquetSchema(
            new DataField<string>("comment"),
            new DataField<int>("label", nullable: true),
            new ListField("hist_category_id", new DataField<long>("element", nullable: true)),
            new ListField("hist_item_id", new DataField<long>("element")),
            new DataField<long>("category_id", nullable: true), new DataField<long>("item_id"), new DataField<long>("user_id"),
            new DataField<long>("timestamp", nullable: true));

        new BehaviourLogSchema(Schema).Check(file, "f.parquet");
    }

    [Fact]
    public void Check_refuses_a_timestamp_of_another_type_when_the_optional_column_is_present()
    {
        var parquet = new BehaviourLogSchema(Schema).ToParquetSchema();
        var file = new ParquetSchema([.. parquet.Fields, new DataField<string>("timestamp")]);

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogSchema(Schema).Check(file, "f.parquet"));

        Assert.Equal("f.parquet: column 'timestamp': expected int64, found string", e.Message);
    }

    [Fact]
    public void Check_expects_a_float_list_when_a_dense_feature_has_dimension_above_one()
    {
        var schema = new FeatureSchema([.. Schema.Sparse, .. Schema.VarLen, new DenseFeat("context", 4)], Schema.HistoryPairs);
        var file = new ParquetSchema([.. new BehaviourLogSchema(Schema).ToParquetSchema().Fields, new DataField<float>("context")]);

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogSchema(schema).Check(file, "f.parquet"));

        Assert.Equal("f.parquet: column 'context': expected list<float> or list<double>, found float", e.Message);
    }
}
