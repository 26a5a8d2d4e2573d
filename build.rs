//! Compiles the Slint UI with the translations bundled (ui/lang/<locale>/LC_MESSAGES/hallkiosk.po).
//! Debug builds (tests) also carry Slint's debug info, which the UI tests need to find elements by
//! their accessible labels.

fn main() {
    let debug = std::env::var("PROFILE")
        .map(|p| p == "debug")
        .unwrap_or(false);
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-light".into())
        .with_bundled_translations("ui/lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(debug);
    slint_build::compile_with_config("ui/main.slint", config).expect("the Slint UI compiles");
    println!("cargo:rerun-if-changed=ui");
}
