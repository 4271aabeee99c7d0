//! The `.pg` language: every construct, the IR, its hash, and errors with
//! positions and codes.

use omnigraph::schema::{PropType, SchemaError, compile_schema};

fn errors(src: &str) -> Vec<SchemaError> {
    compile_schema(src).expect_err("schema should be rejected")
}

fn first_code(src: &str) -> (&'static str, u32, u32) {
    let e = &errors(src)[0];
    (e.code, e.line, e.col)
}

const RICH: &str = r#"
// A schema using every construct.
interface Named { name: String }
/* block
   comment */
node Person implements Named @description("a human") @team("core") {
    name: String @key @description("full name")
    age: I32?
    score: F64
    tags: [String]?
    status: enum(active, retired)
    born: Date?
    seen: DateTime?
    photo: Blob?
    bio: String?
    embedding: Vector(4)? @embed("bio")
    old_field: I64? @rename_from("legacy") @custom(1, "x")
    count: U64?
    small: U32?
    ratio: F32?
    flag: Bool?
    big: I64?
    @unique(score, status)
    @index(age)
    @range(age, 0..150)
    @check(name, "^[A-Za-z ]+$")
    @audit
}
node Company { name: String @key @unique @index }
edge WorksAt: Person -> Company @card(0..1) { since: Date? }
edge Knows: Person -> Person
"#;

#[test]
fn every_construct_compiles_to_the_ir() {
    let ir = compile_schema(RICH).unwrap();
    let p = ir.node("Person").unwrap();
    assert_eq!(p.key, vec!["name"]);
    assert_eq!(p.implements, vec!["Named"]);
    assert_eq!(p.description.as_deref(), Some("a human"));
    assert_eq!(p.metadata.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["team", "audit"]);
    assert_eq!(p.property("tags").unwrap().ty, PropType::List(Box::new(PropType::String)));
    assert!(p.property("tags").unwrap().nullable);
    assert_eq!(p.property("status").unwrap().ty, PropType::Enum(vec!["active".into(), "retired".into()]));
    assert_eq!(p.property("embedding").unwrap().ty, PropType::Vector(4));
    assert_eq!(p.property("embedding").unwrap().embed.as_deref(), Some("bio"));
    assert_eq!(p.property("old_field").unwrap().rename_from.as_deref(), Some("legacy"));
    assert_eq!(p.property("old_field").unwrap().metadata[0].name, "custom");
    assert_eq!(p.property("name").unwrap().description.as_deref(), Some("full name"));
    assert_eq!(p.unique, vec![vec!["score".to_string(), "status".to_string()]]);
    assert_eq!(p.indexes, vec![vec!["age".to_string()]]);
    assert_eq!(p.ranges[0].min, Some(0.0));
    assert_eq!(p.ranges[0].max, Some(150.0));
    assert_eq!(p.checks[0].pattern, "^[A-Za-z ]+$");
    let c = ir.node("Company").unwrap();
    assert_eq!(c.unique, vec![vec!["name".to_string()]]);
    assert_eq!(c.indexes, vec![vec!["name".to_string()]]);
    let w = ir.edge("WorksAt").unwrap();
    assert_eq!((w.from.as_deref(), w.to.as_deref()), (Some("Person"), Some("Company")));
    let card = w.card.clone().unwrap();
    assert_eq!((card.min, card.max), (0, Some(1)));
    assert!(ir.edge("Knows").unwrap().properties.is_empty());
    // Storage locations and table keys.
    assert_eq!(p.location(), "nodes/Person");
    assert_eq!(w.table_key(), "edge:WorksAt");
}

#[test]
fn hash_ignores_whitespace_comments_order_and_spelling() {
    let a = "node A { x: String @key y: I32? }\nedge E: A -> A";
    let b = "// comment\nedge E: A -> A\n\n/* c */ node A {\n  x: String\n  y: I32?\n  @key(x)\n}\n";
    let h = |s: &str| compile_schema(s).unwrap().content_hash();
    assert_eq!(h(a), h(b));
    assert_eq!(h(a), h(a));
    assert_ne!(h(a), h("node A { x: String @key y: I64? }\nedge E: A -> A"));
    assert_ne!(h(a), h("node A { x: String @key y: I32? }\nedge E: A -> A @card(0..1)"));
}

#[test]
fn range_and_check_written_on_a_property_mean_the_body_constraint() {
    let short = "node A {\n  name: String @key @check(\"^[a-z]+$\")\n  age: I32? @range(0..150)\n  t: F64 @range(..1.5)\n}";
    let long = "node A {\n  name: String @key\n  age: I32?\n  t: F64\n  @check(name, \"^[a-z]+$\")\n  @range(age, 0..150)\n  @range(t, ..1.5)\n}";
    let (s, l) = (compile_schema(short).unwrap(), compile_schema(long).unwrap());
    let a = s.node("A").unwrap();
    assert_eq!(a.ranges.iter().map(|r| (r.property.as_str(), r.min, r.max)).collect::<Vec<_>>(), [("age", Some(0.0), Some(150.0)), ("t", None, Some(1.5))]);
    assert_eq!(a.checks[0].property, "name");
    assert!(a.property("age").unwrap().metadata.is_empty(), "the short form is a constraint, not metadata");
    assert_eq!(s.content_hash(), l.content_hash());
    // The body form still works right after a property, with a quoted name too.
    let body = compile_schema("node A { n: String @key x: I32 @range(\"x\", 1..2) @check(n, \"a\") }").unwrap();
    assert_eq!(body.node("A").unwrap().ranges[0].property, "x");
    assert_eq!(body.node("A").unwrap().checks[0].property, "n");
    // Errors name the property the short form is on, at the annotation.
    assert_eq!(first_code("node A {\n  x: String @range(0..1)\n}"), ("OG-SCHEMA-014", 2, 13));
    assert_eq!(first_code("node A {\n  x: I32 @check(\"a\")\n}"), ("OG-SCHEMA-014", 2, 10));
    assert_eq!(first_code("node A { x: I32 @range(5..1) }").0, "OG-SCHEMA-009");
    assert_eq!(first_code("interface I { x: I32 @range(0..1) }").0, "OG-SCHEMA-009");
    assert!(errors("node A {\n  x: String @range(0..1)\n}")[0].message.contains("`x`"));
}

#[test]
fn syntax_errors_carry_line_and_column() {
    assert_eq!(first_code("node A {\n  x String\n}"), ("OG-SCHEMA-001", 2, 5));
    assert_eq!(first_code("node A { x: String"), ("OG-SCHEMA-001", 1, 19));
    assert_eq!(first_code("nod A {}"), ("OG-SCHEMA-001", 1, 1));
    assert_eq!(first_code("node A { x: String @description(\"unterminated) }").0, "OG-SCHEMA-001");
    assert_eq!(first_code("node A { /* never closed").0, "OG-SCHEMA-001");
}

#[test]
fn semantic_errors_have_stable_codes_and_positions() {
    assert_eq!(first_code("node A { x: String }\nnode A { y: String }"), ("OG-SCHEMA-002", 2, 6));
    assert_eq!(first_code("node A {\n x: String\n x: I32 }"), ("OG-SCHEMA-003", 3, 2));
    assert_eq!(first_code("node A { x: String }\nedge E: A -> B"), ("OG-SCHEMA-004", 2, 14));
    assert_eq!(first_code("node A { x: String? @key }").0, "OG-SCHEMA-005");
    assert_eq!(first_code("node A { x: String }\nedge E: A -> A @card(3..1)").0, "OG-SCHEMA-006");
    assert_eq!(first_code("node A { x: String }\nedge E: A -> A @card(x)").0, "OG-SCHEMA-006");
    assert_eq!(first_code("node A implements Missing { x: String }").0, "OG-SCHEMA-007");
    assert_eq!(first_code("node A { x: String @unique(y) }").0, "OG-SCHEMA-008");
    assert_eq!(first_code("node A { x: String @description(1) }").0, "OG-SCHEMA-009");
    assert_eq!(first_code("node A { x: String\n @unique(y) }"), ("OG-SCHEMA-008", 2, 2));
    assert_eq!(first_code("node A { x: Strng }"), ("OG-SCHEMA-010", 1, 13));
    assert_eq!(first_code("interface I { x: String }\nnode A implements I { x: I32 }").0, "OG-SCHEMA-011");
    assert_eq!(first_code("node A { id: String }").0, "OG-SCHEMA-012");
    assert_eq!(first_code("node A { x: String @key y: String @key }").0, "OG-SCHEMA-013");
    assert_eq!(first_code("node A { x: String }\nedge E: A -> A { w: String @key }").0, "OG-SCHEMA-013");
    assert_eq!(first_code("node A { x: String\n @range(x, 0..1) }").0, "OG-SCHEMA-014");
    assert_eq!(first_code("node A { x: String\n @check(x, \"(\") }").0, "OG-SCHEMA-009");
    assert_eq!(first_code("node A { v: Vector(0) }").0, "OG-SCHEMA-010");
}

#[test]
fn all_semantic_errors_are_reported_in_order() {
    let errs = errors("node A { x: String? @key }\nedge E: A -> Missing\nnode A { y: I32 }");
    let codes: Vec<_> = errs.iter().map(|e| e.code).collect();
    assert_eq!(codes, vec!["OG-SCHEMA-005", "OG-SCHEMA-004", "OG-SCHEMA-002"]);
    assert!(errs[0].to_string().starts_with("1:"), "{}", errs[0]);
}

#[test]
fn interfaces_give_their_properties_to_implementors() {
    let ir =
        compile_schema("interface Named { name: String }\ninterface Aged { age: I32? }\nnode P implements Named, Aged { extra: Bool?\n @key(name) }").unwrap();
    let p = ir.node("P").unwrap();
    let names: Vec<_> = p.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["name", "age", "extra"]);
    assert_eq!(p.key, vec!["name"]);
}
