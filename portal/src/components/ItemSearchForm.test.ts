import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "@/api/client";
import { emptyFilters, type ItemFilters } from "@/catalog/filters";
import { buildRegionTree } from "@/catalog/regions";
import { departmentsByRegion, regions } from "@/testing/fixtures";
import { expectLabelled, fakeGateway, portalMount, settle } from "@/testing/support";

import ItemSearchForm from "./ItemSearchForm.vue";

const tree = buildRegionTree(regions);

function gateway() {
  return fakeGateway({
    "GET /api/v1/departments": (request) => {
      const region = request.url.searchParams.get("region") ?? "";
      return { body: { items: departmentsByRegion[region] ?? [] } };
    },
  });
}

async function form(props: { filters?: ItemFilters; error?: unknown; regionsFailed?: boolean } = {}) {
  const fake = gateway();
  const { wrapper } = await portalMount(ItemSearchForm, {
    props: { filters: props.filters ?? emptyFilters(), tree, error: props.error, regionsFailed: props.regionsFailed },
    client: new ApiClient({ fetch: fake.fetch }),
  });
  await settle();
  return { wrapper, requests: fake.requests };
}

function optionTexts(select: { findAll: (s: string) => { text: () => string }[] }): string[] {
  return select.findAll("option").map((option) => option.text());
}

describe("ItemSearchForm", () => {
  it("labels every control", async () => {
    const { wrapper } = await form();
    for (const control of wrapper.findAll("input, select")) {
      const id = control.attributes("id");
      expect(id, control.html()).toBeTruthy();
      expect(wrapper.find(`label[for="${id}"]`).exists(), `label for ${id}`).toBe(true);
    }
    expect(wrapper.get("form").attributes("role")).toBe("search");
  });

  it("sends the keywords and filters when submitted", async () => {
    const { wrapper } = await form();
    await wrapper.get("#search-q").setValue("  营业执照 ");
    await wrapper.get("#search-level").setValue("city");
    await wrapper.get("#search-mode").setValue("express");
    await wrapper.get("form").trigger("submit");

    expect(wrapper.emitted("search")).toEqual([
      [{ q: "营业执照", region: "", department: "", level: "city", mode: "express" }],
    ]);
  });

  it("picks a county within the chosen city; the county picker waits for a city", async () => {
    const { wrapper } = await form();
    const county = wrapper.get("#search-county");
    expect(county.attributes("disabled")).toBeDefined();
    expect(optionTexts(wrapper.get("#search-city"))).toEqual(["全省", "南京市", "无锡市"]);

    await wrapper.get("#search-city").setValue("320100");
    expect(wrapper.get("#search-county").attributes("disabled")).toBeUndefined();
    expect(optionTexts(wrapper.get("#search-county"))).toEqual(["全市", "玄武区", "秦淮区"]);

    await wrapper.get("#search-county").setValue("320102");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("search")?.[0]?.[0]).toMatchObject({ region: "320102" });

    // A city alone searches the whole city, its counties included.
    await wrapper.get("#search-city").setValue("320200");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("search")?.[1]?.[0]).toMatchObject({ region: "320200" });
  });

  it("lists the departments seated in the chosen region", async () => {
    const { wrapper, requests } = await form();
    expect(optionTexts(wrapper.get("#search-department"))).toEqual([
      "全部部门",
      "江苏省市场监督管理局",
      "江苏省公安厅",
    ]);
    await wrapper.get("#search-department").setValue("js-amr");

    await wrapper.get("#search-city").setValue("320100");
    await settle();
    expect(optionTexts(wrapper.get("#search-department"))).toEqual(["全部部门", "南京市市场监督管理局"]);
    // Changing the region drops a department of another region.
    expect((wrapper.get("#search-department").element as HTMLSelectElement).value).toBe("");
    expect(requests.map((r) => r.url.searchParams.get("region"))).toEqual(["320000", "320100"]);
  });

  it("fills itself from the URL's filters", async () => {
    const { wrapper } = await form({
      filters: { q: "身份证", region: "320104", department: "", level: "county", mode: "online" },
    });
    expect((wrapper.get("#search-q").element as HTMLInputElement).value).toBe("身份证");
    expect((wrapper.get("#search-city").element as HTMLSelectElement).value).toBe("320100");
    expect((wrapper.get("#search-county").element as HTMLSelectElement).value).toBe("320104");
    expect((wrapper.get("#search-level").element as HTMLSelectElement).value).toBe("county");
  });

  it("shows the gateway's reason next to the field it names", async () => {
    const error = new ApiError({
      status: 422,
      code: "invalid",
      message: "invalid input",
      fields: { q: "Longer than maximum length 100.", level: "Must be one of: province, city, county." },
    });
    const { wrapper } = await form({ error });

    const input = wrapper.get("#search-q");
    expect(input.attributes("aria-invalid")).toBe("true");
    expect(input.attributes("aria-describedby")).toContain("search-q-error");
    expect(wrapper.get("#search-q-error").text()).toBe("Longer than maximum length 100.");
    expect(wrapper.get("#search-level").attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#search-level-error").text()).toContain("Must be one of");
    expect(wrapper.get("#search-mode").attributes("aria-invalid")).toBeUndefined();
  });

  it("limits the keywords to what the gateway accepts", async () => {
    const { wrapper } = await form();
    expect(wrapper.get("#search-q").attributes("maxlength")).toBe("100");
  });

  it("clears every filter and searches again", async () => {
    const { wrapper } = await form({
      filters: { q: "x", region: "320100", department: "nj-amr", level: "city", mode: "window" },
    });
    await wrapper.get("button[type=button]").trigger("click");
    expect(wrapper.emitted("search")).toEqual([[{ q: "", region: "", department: "", level: "", mode: "" }]]);
  });

  it("stands at its final size before the region and department lists arrive", async () => {
    let answerDepartments!: () => void;
    const departmentsAsked = new Promise<void>((resolve) => (answerDepartments = resolve));
    const fake = gateway();
    const slow: typeof fetch = async (input, init) => {
      if (String(input).includes("/departments")) await departmentsAsked;
      return fake.fetch(input, init);
    };
    const { wrapper } = await portalMount(ItemSearchForm, {
      props: { filters: emptyFilters(), tree: null },
      client: new ApiClient({ fetch: slow }),
    });
    await settle();
    const fieldIds = () => wrapper.findAll(".search-form__filters > .field").map((field) => field.get("select").attributes("id"));
    const controls = ["search-city", "search-county", "search-department", "search-level", "search-mode"];
    // Every control is there at once; the region pickers wait, disabled, for their list.
    expect(fieldIds()).toEqual(controls);
    expect(wrapper.get("#search-city").attributes("disabled")).toBeDefined();
    expect(optionTexts(wrapper.get("#search-city"))).toEqual(["正在加载…"]);
    expect(wrapper.get("#search-county").attributes("disabled")).toBeDefined();
    expect(optionTexts(wrapper.get("#search-department"))).toEqual(["全部部门"]);
    expectLabelled(wrapper.element);

    await wrapper.setProps({ tree });
    await settle();
    expect(wrapper.get("#search-city").attributes("disabled")).toBeUndefined();
    expect(optionTexts(wrapper.get("#search-city"))).toEqual(["全省", "南京市", "无锡市"]);

    answerDepartments();
    await settle();
    expect(optionTexts(wrapper.get("#search-department")).length).toBeGreaterThan(1);
    expect(fieldIds()).toEqual(controls);
  });

  it("still searches when the regions could not be loaded, keeping the URL's region", async () => {
    const fake = gateway();
    const { wrapper } = await portalMount(ItemSearchForm, {
      props: { filters: { ...emptyFilters(), region: "320100" }, tree: null, regionsFailed: true },
      client: new ApiClient({ fetch: fake.fetch }),
    });
    expect(wrapper.text()).toContain("地区列表暂时无法加载");
    expect(wrapper.find("#search-city").exists()).toBe(false);
    await wrapper.get("#search-q").setValue("护照");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("search")?.[0]?.[0]).toMatchObject({ q: "护照", region: "320100" });
  });
});
